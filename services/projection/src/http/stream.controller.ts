import { BadRequestException, Controller, ForbiddenException, Get, Inject, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ChangeCoalescer, visible, type StreamFilter } from '../domain/change-coalescer';
import type { ReadModelChange, ReadModelChanges } from '../domain/read-models';
import { READ_MODEL_CHANGES } from '../projection.constants';
import { AuthGuard, type AuthenticatedRequest } from './auth/auth.guard';

const KINDS: readonly ReadModelChange['kind'][] = ['execution', 'customer', 'overview', 'alert', 'sla_violation'];
/** At most this many messages a second per stream, however many events arrive. */
const SEND_EVERY_MS = 250;
const HEARTBEAT_EVERY_MS = 15_000;

/**
 * `GET /v1/stream`: Server-Sent Events of read-model changes, same auth as the API (a browser's
 * EventSource passes the token as `?access_token=`). Each `changes` message names what changed
 * (kind, id, customer, time), coalesced per thing; clients refetch what they show.
 */
@Controller('v1')
@UseGuards(AuthGuard)
export class StreamController {
  constructor(@Inject(READ_MODEL_CHANGES) private readonly changes: ReadModelChanges) {}

  @Get('stream')
  stream(@Req() request: AuthenticatedRequest, @Res() reply: FastifyReply, @Query('kinds') kindsParam?: string, @Query('customerId') customerParam?: string) {
    const principal = request.principal!;
    const kinds = new Set((kindsParam ? kindsParam.split(',') : KINDS).map((k) => k.trim()) as ReadModelChange['kind'][]);
    const unknown = [...kinds].filter((k) => !KINDS.includes(k));
    if (unknown.length > 0) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `kinds: unknown ${unknown.join(', ')}; expected some of ${KINDS.join(', ')}` });
    if (principal.role === 'customer' && customerParam && customerParam !== principal.customerId) throw new ForbiddenException(`a customer token may only stream customer ${principal.customerId}`);
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
    request.raw.on('close', () => {
      clearInterval(sender);
      clearInterval(heartbeat);
      unsubscribe();
    });
  }
}
