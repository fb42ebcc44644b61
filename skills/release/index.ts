/**
 * The `release` skills as skill implementations: each runs one of the release's skills
 * with its exact call graph (skills/release/solvers.ts), reading the prompt texts from
 * the release checkout. A registry selects them by `implementation: release:<Name>`
 * (registry/release.yaml lists them all).
 */
import { PermanentError } from '../../src/core/errors.ts';
import type { Service } from '../../src/core/registry.ts';
import type { SkillContext, SkillImplementation } from '../types.ts';
import { codeRelease } from './code.ts';
import { countingRelease } from './counting.ts';
import { erqaRouterRelease, erqaSolvers } from './erqa.ts';
import {
  ocrbenchRouterRelease,
  ocrbenchSolvers,
  vlmsareblindRouterRelease,
  vlmsareblindSolvers,
} from './packs.ts';
import { type ReleaseEnv, type ReleaseSkillCode, releaseSettings, runReleaseSkill } from './run.ts';
import { processCaches } from './services.ts';
import {
  chartRelease,
  geometricRelease,
  noneRelease,
  perceptionRelease,
  scienceRelease,
  zoomRelease,
} from './solvers.ts';
import { releaseTexts, UPSTREAM_HINT, upstreamDir } from './upstream.ts';
import { type Endpoint, ReleaseWire } from './wire.ts';

/** Implementation id of a release skill. */
export const releaseId = (name: string) => `release:${name}`;

/** A service the release would reach; none when its API key is not set (the release then sends nothing). */
function serviceEndpoint(s: Service, env: NodeJS.ProcessEnv): Endpoint | undefined {
  if (s.apiKeyEnv && !env[s.apiKeyEnv]) return undefined;
  return { name: s.name, to: s, model: s.model };
}

/** The run's endpoints and texts, from the registry and the context. */
function releaseEnv(ctx: SkillContext, env: NodeJS.ProcessEnv = process.env): ReleaseEnv {
  const dir = upstreamDir(ctx.registry.upstream, env);
  if (!dir) {
    throw new PermanentError(`skill ${ctx.skill?.name ?? ''}: no release checkout configured`, {
      hint: UPSTREAM_HINT,
    });
  }
  const service = (role: 'ocr' | 'caption' | 'zoom' | 'detection') => {
    const s = ctx.registry.services.find((x) => x.role === role);
    return s ? serviceEndpoint(s, env) : undefined;
  };
  return {
    texts: releaseTexts(dir),
    wire: new ReleaseWire(ctx),
    caches: processCaches,
    // The expert's client (ctx.client) already holds its key and served model name.
    expert: { name: ctx.expert.name, to: 'expert', model: ctx.client.endpoint.model },
    // Without its API key the release's caption service sends nothing; the others must exist.
    services: {
      ocr: service('ocr'),
      caption: service('caption'),
      zoom: service('zoom'),
      detection: service('detection'),
    },
    retryDelayMs: releaseSettings.retryDelayMs,
  };
}

/**
 * Default budget of a release skill run: its call graph sends more requests than the
 * project's skills (services per image, the Code skill's rounds, the orchestrator's second
 * attempt) and waits up to 900 s per expert call; an explicit expert-pool budget caps it.
 */
export const RELEASE_BUDGET = { maxCalls: 64, timeoutMs: 1_800_000 } as const;

function implementation(code: ReleaseSkillCode): SkillImplementation {
  return {
    id: releaseId(code.name),
    name: code.name,
    profile: 'release',
    level: 1,
    description: `the Maestro release's ${code.name}, call for call (${code.file})`,
    services: code.services.map((role) => ({ role, required: role !== 'caption' })),
    defaultBudget: RELEASE_BUDGET,
    async run(ctx) {
      const env = releaseEnv(ctx);
      const images = await Promise.all(ctx.images.map((ref) => ctx.tools.store.readImage(ref)));
      return { text: await runReleaseSkill(code, env, { question: ctx.input, images }) };
    },
  };
}

type ReleaseImplementation = SkillImplementation & { aliases: readonly string[] };

function withAliases(code: ReleaseSkillCode): ReleaseImplementation {
  return { ...implementation(code), aliases: code.aliases };
}

export const releaseNone = withAliases(noneRelease);
export const releaseGeometric = withAliases(geometricRelease);
export const releaseChart = withAliases(chartRelease);
export const releaseCounting = withAliases(countingRelease);
export const releaseCode = withAliases(codeRelease);
export const releaseOcrbenchRouter = withAliases(ocrbenchRouterRelease);
export const releaseVlmsareblindRouter = withAliases(vlmsareblindRouterRelease);
export const releaseErqaRouter = withAliases(erqaRouterRelease);
export const [
  releaseErqaTrajectory,
  releaseErqaAction,
  releaseErqaSpatial,
  releaseErqaPointing,
  releaseErqaMultiView,
] = erqaSolvers.map(withAliases) as [
  ReleaseImplementation,
  ReleaseImplementation,
  ReleaseImplementation,
  ReleaseImplementation,
  ReleaseImplementation,
];
export const [
  releaseVlmsareblindCircles,
  releaseVlmsareblindIntersections,
  releaseVlmsareblindGrid,
  releaseVlmsareblindHighlighted,
  releaseVlmsareblindShapes,
] = vlmsareblindSolvers.map(withAliases) as [
  ReleaseImplementation,
  ReleaseImplementation,
  ReleaseImplementation,
  ReleaseImplementation,
  ReleaseImplementation,
];
export const [
  releaseOcrbenchTextRecognition,
  releaseOcrbenchKeyInformation,
  releaseOcrbenchSceneText,
  releaseOcrbenchDocumentChart,
  releaseOcrbenchFormula,
] = ocrbenchSolvers.map(withAliases) as [
  ReleaseImplementation,
  ReleaseImplementation,
  ReleaseImplementation,
  ReleaseImplementation,
  ReleaseImplementation,
];
export const releaseScience = withAliases(scienceRelease);
export const releasePerception = withAliases(perceptionRelease);
export const releaseZoom = withAliases(zoomRelease);

/** The release skills as implementations, with the other names the release's factory accepts. */
export const releaseSkills: readonly ReleaseImplementation[] = [
  releaseNone,
  releaseGeometric,
  releaseChart,
  releaseCounting,
  releaseCode,
  releaseOcrbenchRouter,
  releaseOcrbenchTextRecognition,
  releaseOcrbenchKeyInformation,
  releaseOcrbenchSceneText,
  releaseOcrbenchDocumentChart,
  releaseOcrbenchFormula,
  releaseVlmsareblindRouter,
  releaseVlmsareblindCircles,
  releaseVlmsareblindIntersections,
  releaseVlmsareblindGrid,
  releaseVlmsareblindHighlighted,
  releaseVlmsareblindShapes,
  releaseErqaRouter,
  releaseErqaTrajectory,
  releaseErqaAction,
  releaseErqaSpatial,
  releaseErqaPointing,
  releaseErqaMultiView,
  releaseScience,
  releasePerception,
  releaseZoom,
];
