import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, ApiQueryFrom, CurrentPrincipal, dateTime, parseInput, RefusedInputError, text, type Principal } from '@flotilla/service-kit';
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DELIVERY_STATUSES } from './domain/delivery-view';
import type { NotificationQueries } from './domain/notification-views';
import { ENDPOINT_STATUSES } from './domain/subscription-view';
import { DELIVERY_DETAIL_SCHEMA, DELIVERY_SCHEMA, pageOf, SUBSCRIPTION_SCHEMA } from './notifications.openapi';
import { NOTIFICATION_QUERIES } from '../projection.constants';
import { scopeCustomer } from '../read-models/customer-scope';
import { decodeIdCursor, decodeTimeAndIdCursor, encodeCursor } from '../read-models/domain/cursor';
import { customerFilter, PAGE_QUERY, STRICT_QUERY } from '../read-models/read-models.controller';

const id = (what: string) => text().min(1).max(200).describe(what);
const subscriptionsQuery = z
  .object({
    ...PAGE_QUERY,
    status: z.enum([...ENDPOINT_STATUSES, 'failing']).optional().describe("the endpoint's health, or failing for open, half_open and disabled"),
    customerId: customerFilter,
    includeDeleted: z.enum(['true', 'false']).default('false').describe('deleted subscriptions too (default false)'),
  })
  .strict();
const deliveriesQuery = z
  .object({
    ...PAGE_QUERY,
    subscriptionId: id('only this subscription\'s').optional(),
    status: z.enum(DELIVERY_STATUSES).optional(),
    eventType: id('only deliveries of this event type (flotilla.execution.ExecutionCompleted)').optional(),
    customerId: customerFilter,
    from: dateTime().optional().describe('scheduled at or after'),
    to: dateTime().optional().describe('scheduled before'),
  })
  .strict();
const subscriptionIdParam = id('the subscription\'s id');
const deliveryIdParam = id('the delivery\'s id (its webhook-id)');

const parse = <T extends z.ZodTypeAny>(schema: T, query: unknown): z.infer<T> => parseInput(schema, query, '(query)');
const notIssued = () => new RefusedInputError('INVALID_CURSOR', [{ field: 'cursor', problem: 'cursor is not one this API issued' }]);

/** Another customer's subscription, and an ops one, answer a customer token exactly like a missing one. */
const visibleTo = (principal: Principal, customerId: string | null) => principal.role === 'ops' || customerId === principal.customerId;

const LIST_400 = { status: 400, description: 'Invalid query (VALIDATION_FAILED), or a cursor this API did not issue (INVALID_CURSOR): every problem, each naming its parameter' };
const TENANCY = 'a customer token sees only its own customer\'s (ops subscriptions, with no customer, are for ops)';

/**
 * The query API over webhook notifications: the subscriptions with their endpoint's health and what
 * was delivered to them, and each delivery with its attempts. A customer token reads its own
 * customer's; another's, and an ops subscription's, answer 404 by id and are left out of lists.
 */
@ApiTags('notifications')
@ApiBearerAuth()
@Controller('v1/notifications')
export class NotificationsController {
  constructor(@Inject(NOTIFICATION_QUERIES) private readonly queries: NotificationQueries) {}

  @Get('subscriptions')
  @ApiOperation({ summary: `Webhook subscriptions by id, with their endpoint's health, counts and success rate; ${TENANCY}`, description: STRICT_QUERY })
  @ApiQueryFrom(subscriptionsQuery)
  @ApiOkResponse({ description: 'A page of subscriptions', schema: pageOf(SUBSCRIPTION_SCHEMA) })
  @ApiErrors(LIST_400)
  async subscriptions(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(subscriptionsQuery, query);
    const after = q.cursor === undefined ? null : decodeIdCursor(q.cursor);
    if (q.cursor !== undefined && after === null) throw notIssued();
    const result = await this.queries.listSubscriptions(
      { customerId: scopeCustomer(principal, q.customerId), status: q.status, includeDeleted: q.includeDeleted === 'true' },
      { limit: q.limit, after },
    );
    return { items: result.items, nextCursor: result.nextCursor === null ? null : encodeCursor([result.nextCursor]) };
  }

  @Get('subscriptions/:id')
  @ApiOperation({ summary: 'One webhook subscription, deleted or not; 404 for unknown ids, for other customers\' and, to a customer token, for ops subscriptions' })
  @ApiPathParam('id', subscriptionIdParam)
  @ApiOkResponse({ description: 'The subscription', schema: SUBSCRIPTION_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No such subscription (yet: the read model may lag the events by a moment), or not this customer\'s' })
  async subscription(@CurrentPrincipal() principal: Principal, @Param('id') param: string) {
    const subscriptionId = parseInput(subscriptionIdParam, param, 'id');
    const subscription = await this.queries.getSubscription(subscriptionId);
    if (!subscription || !visibleTo(principal, subscription.customerId)) {
      throw new NotFoundError('subscription', subscriptionId, `subscription ${subscriptionId} is not known (yet): the read model may lag the events by a moment`);
    }
    return subscription;
  }

  @Get('deliveries')
  @ApiOperation({ summary: `Webhook deliveries, newest first (by when they were scheduled), with their status and last attempt; ${TENANCY}`, description: STRICT_QUERY })
  @ApiQueryFrom(deliveriesQuery)
  @ApiOkResponse({ description: 'A page of deliveries', schema: pageOf(DELIVERY_SCHEMA) })
  @ApiErrors(LIST_400)
  async deliveries(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(deliveriesQuery, query);
    const after = q.cursor === undefined ? null : decodeTimeAndIdCursor(q.cursor);
    if (q.cursor !== undefined && after === null) throw notIssued();
    const result = await this.queries.listDeliveries(
      { customerId: scopeCustomer(principal, q.customerId), subscriptionId: q.subscriptionId, status: q.status, eventType: q.eventType, from: q.from, to: q.to },
      { limit: q.limit, after },
    );
    return { items: result.items, nextCursor: result.nextCursor === null ? null : encodeCursor(result.nextCursor) };
  }

  @Get('deliveries/:id')
  @ApiOperation({ summary: 'One webhook delivery with every attempt; 404 for unknown ids and for deliveries of subscriptions the token may not read' })
  @ApiPathParam('id', deliveryIdParam)
  @ApiOkResponse({ description: 'The delivery and its attempts', schema: DELIVERY_DETAIL_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No such delivery (yet: the read model may lag the events by a moment), or not this customer\'s' })
  async delivery(@CurrentPrincipal() principal: Principal, @Param('id') param: string) {
    const deliveryId = parseInput(deliveryIdParam, param, 'id');
    const delivery = await this.queries.getDelivery(deliveryId);
    if (!delivery || !visibleTo(principal, delivery.customerId)) {
      throw new NotFoundError('delivery', deliveryId, `delivery ${deliveryId} is not known (yet): the read model may lag the events by a moment`);
    }
    return delivery;
  }
}
