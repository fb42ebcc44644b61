export { drive, RolloutFailed, type RolloutIO } from './drive.ts';
export { advance, initialState, notStarted } from './engine.ts';
export { namesFromRegistry } from './names.ts';
export { chatProfile } from './profile.ts';
export type {
  ChildResult,
  EngineConfig,
  FanOutCall,
  NameResolver,
  Next,
  PolicyDecision,
  PolicyReply,
  ProtocolProfile,
  RolloutEvent,
  Transition,
} from './types.ts';
