import { defineConfig } from 'vitest/config';
import { CLUSTER_GLOBS } from './test/suites.ts';
import { common } from './vitest.config.ts';

// `npm run test:cluster`: the files that use Redis, worker processes or outside tools (see test/suites.ts).
export default defineConfig({ test: { ...common, include: CLUSTER_GLOBS } });
