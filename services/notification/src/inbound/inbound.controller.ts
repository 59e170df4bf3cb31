import { assertNever, NotFoundError } from '@flotilla/domain';
import { ApiErrors, AuthError, Public, RefusedInputError } from '@flotilla/service-kit';
import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Logger } from '@flotilla/observability';
import { INBOUND_REQUESTS, NOTIFICATION_SETTINGS } from '../notification.constants';
import { verify } from '../signing/domain/webhook-signature';
import { decideGitHubWebhook, githubSignatureValid } from './domain/github-pull-request';
import { decideSignedRequest, type InboundSender } from './domain/signed-request';
import type { InboundRequests } from './inbound-requests';

export interface InboundSettings {
  readonly githubSecret: string | null;
  readonly githubRepositories: Readonly<Record<string, string>>;
  readonly senders: readonly InboundSender[];
  readonly logger: Logger;
}

type RawRequest = FastifyRequest & { rawBody?: Buffer };

const ACCEPTED_SCHEMA = {
  type: 'object',
  required: ['outcome'],
  properties: { outcome: { type: 'string', enum: ['accepted', 'duplicate', 'ignored'] }, reason: { type: 'string' } },
};

/**
 * Webhooks in. These routes carry no bearer token: each is authenticated by its signature over the
 * exact body (GitHub's X-Hub-Signature-256; Standard Webhooks for configured senders), checked before
 * anything in it is believed. A bad or missing signature is a 401, and nothing is requested.
 */
@ApiTags('inbound')
@Controller('v1/inbound')
export class InboundController {
  constructor(
    @Inject(INBOUND_REQUESTS) private readonly inbound: InboundRequests,
    @Inject(NOTIFICATION_SETTINGS) private readonly settings: { readonly inbound: InboundSettings },
  ) {}

  @Public()
  @Post('github')
  @HttpCode(202)
  @ApiOperation({ summary: 'A GitHub webhook (X-Hub-Signature-256): pull_request opened, reopened or synchronize requests a review of the mapped customer; the rest is acknowledged and ignored' })
  @ApiAcceptedResponse({ description: 'Taken (accepted), taken before (duplicate), or acknowledged and ignored', schema: ACCEPTED_SCHEMA })
  @ApiErrors(400, { status: 401, description: 'X-Hub-Signature-256 missing or wrong' }, { status: 404, description: 'No GitHub webhook secret is configured' }, { status: 413, description: 'The body is over 1 MiB' })
  async github(@Req() request: RawRequest) {
    const { githubSecret, githubRepositories, logger } = this.settings.inbound;
    if (!githubSecret) throw new NotFoundError('route', 'github', 'no GitHub webhook secret is configured (GITHUB_WEBHOOK_SECRET)');
    const body = rawBodyOf(request);
    if (!githubSignatureValid(githubSecret, body, header(request, 'x-hub-signature-256'))) throw new AuthError(401, 'X-Hub-Signature-256 is missing or does not match the body');
    const deliveryId = header(request, 'x-github-delivery');
    if (!deliveryId || deliveryId.length > 200) throw new RefusedInputError('INVALID_WEBHOOK', [{ field: 'X-GitHub-Delivery', problem: 'is required (at most 200 characters)' }]);
    const decision = decideGitHubWebhook({ event: header(request, 'x-github-event'), deliveryId, payload: request.body, now: Date.now() }, githubRepositories);
    switch (decision.kind) {
      case 'invalid':
        throw new RefusedInputError('INVALID_WEBHOOK', [{ field: '(body)', problem: decision.problem }]);
      case 'ignored':
        return { outcome: 'ignored', reason: decision.reason };
      case 'unmapped':
        logger.info({ repository: decision.repository, deliveryId }, 'a pull request of a repository no customer is configured for: ignored');
        return { outcome: 'ignored', reason: `repository ${decision.repository} is not configured for reviews` };
      case 'review':
        return { outcome: await this.inbound.takeOnce('github', deliveryId, { type: 'flotilla.review.ReviewRequested', data: decision.request }, 'review') };
      default:
        return assertNever(decision, 'GitHub webhook decision');
    }
  }

  @Public()
  @Post('webhooks/:senderId')
  @HttpCode(202)
  @ApiOperation({ summary: 'A request from a configured sender, signed per Standard Webhooks: {type: execution.requested | review.requested, timestamp, data}; idempotent by webhook-id' })
  @ApiAcceptedResponse({ description: 'Taken (accepted), or taken before (duplicate)', schema: ACCEPTED_SCHEMA })
  @ApiErrors(400, { status: 401, description: 'An unknown sender, or a signature that does not verify' }, { status: 413, description: 'The body is over 1 MiB' })
  async signed(@Req() request: RawRequest, @Param('senderId') senderId: string) {
    const sender = this.settings.inbound.senders.find((s) => s.id === senderId);
    // An unknown sender is refused like a bad signature: which senders exist is nobody's business.
    if (!sender) throw new AuthError(401, 'the signature does not verify');
    const body = rawBodyOf(request);
    const verified = verify(sender.secrets, request.headers as Record<string, string | string[] | undefined>, body, Math.floor(Date.now() / 1000));
    if (verified.kind !== 'verified') throw new AuthError(401, `the signature does not verify (${verified.kind.replace(/_/g, ' ')})`);
    const decision = decideSignedRequest(sender, verified.msgId, request.body, Date.now());
    if (decision.kind === 'invalid') throw new RefusedInputError('INVALID_WEBHOOK', decision.problems);
    const event = decision.kind === 'review' ? ({ type: 'flotilla.review.ReviewRequested', data: decision.request } as const) : ({ type: 'flotilla.execution.ExecutionRequested', data: decision.request } as const);
    return { outcome: await this.inbound.takeOnce(`webhook:${sender.id}`, verified.msgId, event, decision.kind) };
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The bytes as received: what was signed. No body is an empty one (its signature is checked like any other). */
function rawBodyOf(request: RawRequest): Buffer {
  return request.rawBody ?? Buffer.alloc(0);
}
