import { summarizeProfile } from './src/bench/profile.ts';
const s = await summarizeProfile(process.argv[2]!, 25);
console.log(s.totalMs.toFixed(0)); for (const o of s.byOrigin) console.log(o.ms.toFixed(0).padStart(6), o.origin);
for (const f of s.topFunctions) console.log(f.ms.toFixed(0).padStart(6), f.origin, f.fn);
