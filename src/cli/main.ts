// The command line, run from the sources (through tsx). The bundle in dist/ calls the same
// `main` (see scripts/build.mjs and bin/maestro-eval.js).
import { main } from './program.ts';

await main();
