import type { DecisionStage } from '@flotilla/contracts';

/**
 * The JSON parts of ScalingDecisionRecorded (snapshot, metrics, recommendation, forecast) as the
 * read model stores them. They are strings in the event because they are nested and still evolving;
 * a string that is not JSON of the expected shape is kept as `{unreadable: <the string>}` (or a list
 * of that) rather than failing the event: the rest of the decision is still worth showing.
 */
export function jsonObject(text: string): Record<string, unknown> {
  const parsed = parse(text);
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { unreadable: text };
}

export function jsonArray(text: string): unknown[] {
  const parsed = parse(text);
  return Array.isArray(parsed) ? parsed : [{ unreadable: text }];
}

/** The forecast part: null when the decision has none (prediction off). */
export function jsonObjectOrNull(text: string | null): Record<string, unknown> | null {
  return text === null ? null : jsonObject(text);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Why a decision came out as it did, in words: the recommendation's own note (what the metrics
 * proposed), then each stage that changed the count it received (stabilization held it, the rate
 * limit cut it, the override set it, …), as `stage: note`. A stage that passed its count on says
 * nothing new and is left out.
 */
export function decisionReasons(recommendation: Readonly<Record<string, unknown>>, stages: readonly DecisionStage[]): string[] {
  const note = typeof recommendation.note === 'string' && recommendation.note.length > 0 ? [recommendation.note] : [];
  return [...note, ...stages.filter((s) => s.from !== s.to).map((s) => `${s.stage.replace(/_/g, ' ')}: ${s.note}`)];
}
