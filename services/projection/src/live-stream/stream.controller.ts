import { ValidationError } from '@flotilla/domain';
import { ApiErrors, assertMayActFor, CurrentPrincipal, type Principal } from '@flotilla/service-kit';
import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ChangeCoalescer, visible, type StreamFilter } from './domain/change-coalescer';
import type { ReadModelChange, ReadModelChanges } from '../read-models/domain/read-models';
import { READ_MODEL_CHANGES } from '../projection.constants';

const KINDS: readonly ReadModelChange['kind'][] = ['execution', 'customer', 'overview', 'alert', 'sla_violation'];
/** At most this many messages a second per stream, however many events arrive. */
const SEND_EVERY_MS = 250;
const HEARTBEAT_EVERY_MS = 15_000;

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
  @ApiQuery({ name: 'kinds', required: false, description: `comma-separated, of ${KINDS.join(', ')}` })
  @ApiQuery({ name: 'customerId', required: false })
  @ApiQuery({ name: 'access_token', required: false, description: 'the bearer token, for EventSource' })
  @ApiOkResponse({ description: 'The stream', content: { 'text/event-stream': {} } })
  @ApiErrors(400, 401, 403, 429)
  stream(@CurrentPrincipal() principal: Principal, @Res() reply: FastifyReply, @Query('kinds') kindsParam?: string, @Query('customerId') customerParam?: string) {
    const kinds = new Set((kindsParam ? kindsParam.split(',') : KINDS).map((k) => k.trim()) as ReadModelChange['kind'][]);
    const unknown = [...kinds].filter((k) => !KINDS.includes(k));
    if (unknown.length > 0) throw ValidationError.of('kinds', `unknown ${unknown.join(', ')}; expected some of ${KINDS.join(', ')}`);
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
