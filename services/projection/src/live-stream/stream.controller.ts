import { ApiErrors, ApiQueryFrom, assertMayActFor, CurrentPrincipal, parseInput, text, type Principal } from '@flotilla/service-kit';
import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ChangeCoalescer, visible, type StreamFilter } from './domain/change-coalescer';
import type { ReadModelChange, ReadModelChanges } from '../read-models/domain/read-models';
import { READ_MODEL_CHANGES } from '../projection.constants';

const KINDS: readonly ReadModelChange['kind'][] = ['execution', 'customer', 'overview', 'alert', 'sla_violation', 'cost', 'budget', 'recommendation', 'scaling', 'notification'];
/** At most this many messages a second per stream, however many events arrive. */
const SEND_EVERY_MS = 250;
const HEARTBEAT_EVERY_MS = 15_000;
const KIND = `\\s*(${KINDS.join('|')})\\s*`;
const streamQuery = z
  .object({
    kinds: z
      .string()
      .regex(new RegExp(`^(${KIND}(,${KIND})*)?$`), `must name some of ${KINDS.join(', ')}, comma-separated`)
      .optional()
      .describe(`comma-separated, of ${KINDS.join(', ')} (default: all)`),
    customerId: text().min(1).max(200).optional().describe("only this customer's changes; a customer token may name only its own (403)"),
    access_token: z.string().optional(),
  })
  .strict();

/**
 * `GET /v1/stream`: Server-Sent Events of read-model changes, same auth as the API (a browser's
 * EventSource passes the token as `?access_token=`). Each `changes` message names what changed
 * (kind, id, customer, time), coalesced per thing; clients refetch what they show.
 */
@ApiTags('live')
@ApiBearerAuth()
@Controller('v1')
export class StreamController {
  constructor(@Inject(READ_MODEL_CHANGES) private readonly changes: ReadModelChanges) {}

  @Get('stream')
  @ApiOperation({ summary: 'Server-Sent Events of read-model changes (text/event-stream)' })
  @ApiQueryFrom(streamQuery)
  @ApiOkResponse({ description: 'The stream: `changes` messages, at most 4 a second, and a keep-alive comment every 15 s', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiErrors({ status: 400, description: 'An unknown kind in `kinds`, or a parameter not listed here' })
  stream(@CurrentPrincipal() principal: Principal, @Res() reply: FastifyReply, @Query() query: unknown) {
    const { kinds: kindsParam, customerId: customerParam } = parseInput(streamQuery, query, '(query)');
    const kinds = new Set((kindsParam ? kindsParam.split(',') : KINDS).map((k) => k.trim()) as ReadModelChange['kind'][]);
    if (customerParam) assertMayActFor(principal, customerParam);
    const filter: StreamFilter = { kinds, customerId: principal.role === 'customer' ? principal.customerId : (customerParam ?? null) };

    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    out.write(`retry: 2000\n: connected as ${principal.role}\n\n`);
    const coalescer = new ChangeCoalescer();
    const unsubscribe = this.changes.subscribe((batch) => coalescer.add(batch.filter((c) => visible(c, filter))));
    let sequence = 0;
    const sender = setInterval(() => {
      if (coalescer.size === 0) return;
      out.write(`id: ${++sequence}\nevent: changes\ndata: ${JSON.stringify({ changes: coalescer.drain() })}\n\n`);
    }, SEND_EVERY_MS);
    const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_EVERY_MS);
    reply.raw.on('close', () => {
      clearInterval(sender);
      clearInterval(heartbeat);
      unsubscribe();
    });
  }
}
