import type { PlatformConfig } from '@flotilla/service-kit';
import { z } from 'zod';
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule, type RetrySchedule } from './deliveries/domain/retry-schedule';
import { secretProblem } from './signing/domain/webhook-signature';

const flag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((v) => v === 'true');

const retrySchedule = z
  .string()
  .optional()
  .transform((text, context): RetrySchedule => {
    if (text === undefined || text.trim() === '') return DEFAULT_RETRY_SCHEDULE;
    const parsed = parseRetrySchedule(text, 'WEBHOOK_RETRY_SCHEDULE');
    if (!parsed.ok) for (const p of parsed.problems) context.addIssue({ code: z.ZodIssueCode.custom, message: `${p.field}: ${p.problem}` });
    return parsed.ok ? parsed.schedule : DEFAULT_RETRY_SCHEDULE;
  });

/** A JSON object in a variable, checked by `shape`. */
const json = <S extends z.ZodTypeAny>(shape: S, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, context): z.infer<S> => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        context.addIssue({ code: z.ZodIssueCode.custom, message: 'must be JSON' });
        return z.NEVER;
      }
      const parsed = shape.safeParse(value);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) context.addIssue({ code: z.ZodIssueCode.custom, message: `${issue.path.join('.') || '(value)'}: ${issue.message}` });
        return z.NEVER;
      }
      return parsed.data;
    });

const webhookSecret = z.string().refine((s) => secretProblem(s) === null, { message: 'must be a whsec_ secret (whsec_ and the base64 of at least 24 bytes)' });

/** The notification service's own variables, validated at boot with the platform's. */
export const notificationConfig = {
  /** Wait before each attempt, the first included (Svix's by default): `0,5s,5m,30m,2h,5h,10h,10h`. */
  WEBHOOK_RETRY_SCHEDULE: retrySchedule,
  /** Each delay is spread over ± this share of itself, so that retries after an outage do not arrive all at once. */
  WEBHOOK_RETRY_JITTER: z.coerce.number().min(0).max(1).default(0.2),
  /** A request that has not answered by then has failed. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** At most this much of an answer's body is read (and a little of it kept as the attempt's error). */
  WEBHOOK_MAX_RESPONSE_BYTES: z.coerce.number().int().min(0).max(1_048_576).default(4_096),
  /** Plain http endpoints (local development and tests only). */
  WEBHOOK_ALLOW_HTTP: flag,
  /** Endpoints on loopback, private and unique-local networks (local development and on-premises receivers). Link-local never. */
  WEBHOOK_ALLOW_PRIVATE: flag,
  /** Consecutive failures that open an endpoint's circuit. */
  ENDPOINT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(5),
  /** How long an open circuit waits before it lets one probe through. */
  ENDPOINT_OPEN_MS: z.coerce.number().int().min(100).default(30_000),
  /** An endpoint failing for this long without a single success is disabled, with an event and an alert (Svix: 5 days). */
  ENDPOINT_DISABLE_AFTER_MS: z.coerce.number().int().min(1_000).default(5 * 24 * 3_600_000),
  /** After a rotation the previous secret still signs for this long. */
  SECRET_ROTATION_GRACE_MS: z.coerce.number().int().min(0).default(24 * 3_600_000),
  /** Requests in flight at once, over every endpoint. */
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1_024).default(32),
  /** Requests in flight at once to one subscription: a slow endpoint never takes every slot. */
  DELIVERY_CONCURRENCY_PER_SUBSCRIPTION: z.coerce.number().int().min(1).max(1_024).default(8),
  /** How often the worker looks for due deliveries when nothing woke it. */
  DELIVERY_POLL_MS: z.coerce.number().int().min(10).default(250),
  /** Finished deliveries (and remembered execution kinds, inbound delivery ids) are deleted after this long. */
  DELIVERY_RETENTION_MS: z.coerce.number().int().min(60_000).default(30 * 24 * 3_600_000),
  /** How often they are looked for. */
  DELIVERY_PRUNE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  /** The secret GitHub signs its webhooks with (X-Hub-Signature-256); unset: the GitHub route answers 404. */
  GITHUB_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Repositories whose pull requests are reviewed, and for which customer: `{"<owner/name or repository id>": "<customerId>"}`. */
  GITHUB_REPOSITORIES: json(z.record(z.string().min(1)), '{}'),
  /** Producers that may request executions and reviews over HTTP, signed per Standard Webhooks: `[{"id": "...", "customerId": "...", "secrets": ["whsec_..."]}]`. */
  INBOUND_SENDERS: json(z.array(z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and -'), customerId: z.string().min(1), secrets: z.array(webhookSecret).min(1) }).strict()), '[]'),
};

export type NotificationConfig = PlatformConfig & z.infer<z.ZodObject<typeof notificationConfig>>;
