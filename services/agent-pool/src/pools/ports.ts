import type { TaskDispatched } from '@flotilla/contracts';
import type { HandedOff } from '@flotilla/messaging';

/** A dispatch the dispatch consumer handed to its agent type's pool (AgentPools, its hand-off sink). */
export interface TakenDispatch extends HandedOff<TaskDispatched> {
  readonly agentType: string;
}
