export { drive, RolloutFailed, type RolloutIO } from './drive.ts';
export { advance, initialState, notStarted } from './engine.ts';
export { namesFromRegistry } from './names.ts';
export { chatProfile, protocolProfile, releaseProfile } from './profile.ts';
export type {
  ChatProfile,
  ChildResult,
  EngineConfig,
  FanOutCall,
  NameResolver,
  Next,
  PolicyDecision,
  PolicyReply,
  ProtocolProfile,
  ReleaseProfile,
  RolloutEvent,
  Transition,
} from './types.ts';
