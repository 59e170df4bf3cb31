/** Every agent type Flotilla knows. A request naming another type is rejected with the reason. */
export const AGENT_TYPES = [
  'req_analysis',
  'arch_planning',
  'code_gen',
  'testing',
  'deployment',
  'review',
  'analysis',
  'security_scan',
  'style_check',
  'summary',
] as const;

export type AgentType = (typeof AGENT_TYPES)[number];

export function isAgentType(value: string): value is AgentType {
  return (AGENT_TYPES as readonly string[]).includes(value);
}
