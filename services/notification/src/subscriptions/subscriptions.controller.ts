import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, CurrentPrincipal, openApiSchema, parseInput, RefusedInputError, text, type Principal } from '@flotilla/service-kit';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Deliveries } from '../deliveries/deliveries';
import { endpointUrlProblems, type UrlSettings } from '../endpoints/domain/address-policy';
import { DELIVERABLE_EVENT_TYPES } from '../notification.topics';
import { DELIVERIES, NOTIFICATION_SETTINGS, SUBSCRIPTION_COMMANDS } from '../notification.constants';
import { SECRET_BYTES, secretFromRandomBytes } from '../signing/domain/webhook-signature';
import type { ActiveSubscription, SubscriptionChanges, SubscriptionState } from './domain/subscription';
import { filterProblems, type SubscriptionFilter } from './domain/subscription-filter';
import type { SubscriptionCommands } from './subscription-commands';

export interface SubscriptionSettings {
  readonly urls: UrlSettings;
  readonly rotationGraceMs: number;
}

const idParam = text().min(1).max(100).describe('the subscription id');
const filterSchema = z
  .object({
    eventTypes: z.array(text().min(1).max(200)).max(100).default([]).describe('event types, or a family such as flotilla.execution.*; none: every event'),
    severities: z.array(z.enum(['info', 'warning', 'critical'])).max(3).default([]).describe('alerts only; none: every severity'),
    executionKinds: z.array(text().min(1).max(100)).max(50).default([]).describe('execution events only; none: every kind'),
  })
  .strict();
const createBody = z
  .object({
    url: text().min(1).max(2_000).describe('https (http only where the service allows it), no credentials'),
    description: text().max(500).default(''),
    filter: filterSchema.default({}),
    enabled: z.boolean().default(true),
    customerId: text().min(1).max(200).nullable().optional().describe('ops only: the customer whose events it receives, or null for every customer; a customer token subscribes to its own'),
  })
  .strict();
const updateBody = z
  .object({
    url: text().min(1).max(2_000).optional(),
    description: text().max(500).optional(),
    filter: filterSchema.optional(),
    enabled: z.boolean().optional().describe('true also re-enables a subscription its failing endpoint disabled'),
  })
  .strict();

const SUBSCRIPTION_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['subscriptionId', 'customerId', 'url', 'description', 'filter', 'enabled', 'health', 'createdAt', 'secretsInUse'],
  properties: {
    subscriptionId: { type: 'string' },
    customerId: { type: 'string', nullable: true, description: 'null: an ops subscription to every customer' },
    url: { type: 'string' },
    description: { type: 'string' },
    filter: openApiSchema(filterSchema, 'output'),
    enabled: { type: 'boolean' },
    health: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['closed', 'open', 'half_open', 'disabled'] }, consecutiveFailures: { type: 'integer' }, failingSince: { type: 'string', format: 'date-time', nullable: true } },
    },
    createdAt: { type: 'string', format: 'date-time' },
    secretsInUse: { type: 'integer', description: 'how many secrets sign each delivery now (2 during a rotation)' },
  },
};
const WITH_SECRET_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['subscription', 'secret'],
  properties: { subscription: SUBSCRIPTION_SCHEMA, secret: { type: 'string', description: 'whsec_…: shown this once; verify deliveries with it (Standard Webhooks)' } },
};

/**
 * Webhook subscriptions: a customer manages its own; ops may subscribe for any customer, or for
 * every customer at once. A secret is generated here and shown once (at creation and rotation).
 */
@ApiTags('subscriptions')
@ApiBearerAuth()
@Controller('v1/subscriptions')
export class SubscriptionsController {
  constructor(
    @Inject(SUBSCRIPTION_COMMANDS) private readonly commands: SubscriptionCommands,
    @Inject(DELIVERIES) private readonly deliveries: Deliveries,
    @Inject(NOTIFICATION_SETTINGS) private readonly settings: SubscriptionSettings,
  ) {}

  @Get('event-types')
  @ApiOperation({ summary: 'The event types a subscription can receive' })
  @ApiOkResponse({ description: 'The types', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { type: 'string' } } } } })
  eventTypes() {
    return { items: DELIVERABLE_EVENT_TYPES };
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Subscribe an endpoint: the answer holds its secret, shown this once' })
  @ApiBody({ schema: openApiSchema(createBody) })
  @ApiCreatedResponse({ description: 'The subscription and its secret', schema: WITH_SECRET_SCHEMA })
  @ApiErrors(400)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const input = parseInput(createBody, body);
    if (principal.role !== 'ops' && input.customerId !== undefined && input.customerId !== principal.customerId) {
      throw new RefusedInputError('INVALID_SUBSCRIPTION', [{ field: 'customerId', problem: 'a customer token subscribes to its own events only: leave customerId out' }]);
    }
    const customerId = principal.role === 'ops' ? (input.customerId ?? null) : principal.customerId;
    this.refuseProblems(input.url, input.filter);
    const secret = secretFromRandomBytes(randomBytes(SECRET_BYTES));
    const subscriptionId = `sub_${uuidv7().replace(/-/g, '')}`;
    const { state } = await this.commands.apply(subscriptionId, { type: 'Create', subscriptionId, customerId, url: input.url, description: input.description, filter: input.filter, enabled: input.enabled, secret, by: principal.subject, now: Date.now() });
    return { subscription: view(state as ActiveSubscription), secret };
  }

  @Get()
  @ApiOperation({ summary: "The caller's subscriptions (ops: every subscription)" })
  @ApiOkResponse({ description: 'The subscriptions', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: SUBSCRIPTION_SCHEMA } } } })
  async list(@CurrentPrincipal() principal: Principal) {
    const rows = await this.commands.rows.list(principal.role === 'ops' ? null : principal.customerId);
    return { items: rows.map((r) => view(r.state as ActiveSubscription)) };
  }

  @Get(':subscriptionId')
  @ApiOperation({ summary: 'One subscription (without its secret)' })
  @ApiPathParam('subscriptionId', idParam)
  @ApiOkResponse({ description: 'The subscription', schema: SUBSCRIPTION_SCHEMA })
  @ApiErrors(400, 404)
  async get(@CurrentPrincipal() principal: Principal, @Param('subscriptionId') param: string) {
    return view(await this.owned(principal, parseInput(idParam, param, 'subscriptionId')));
  }

  @Patch(':subscriptionId')
  @ApiOperation({ summary: 'Change the endpoint, description, filter or enabled flag (enabled: true also re-enables one its endpoint disabled)' })
  @ApiPathParam('subscriptionId', idParam)
  @ApiBody({ schema: openApiSchema(updateBody) })
  @ApiOkResponse({ description: 'The subscription as it is now', schema: SUBSCRIPTION_SCHEMA })
  @ApiErrors(400, 404)
  async update(@CurrentPrincipal() principal: Principal, @Param('subscriptionId') param: string, @Body() body: unknown) {
    const subscriptionId = parseInput(idParam, param, 'subscriptionId');
    const changes: SubscriptionChanges = parseInput(updateBody, body);
    await this.owned(principal, subscriptionId);
    this.refuseProblems(changes.url, changes.filter);
    const { state } = await this.commands.apply(subscriptionId, { type: 'Update', changes, by: principal.subject, now: Date.now() });
    return view(state as ActiveSubscription);
  }

  @Delete(':subscriptionId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a subscription: nothing more is delivered; its waiting deliveries go to the dead letters' })
  @ApiPathParam('subscriptionId', idParam)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 404)
  async remove(@CurrentPrincipal() principal: Principal, @Param('subscriptionId') param: string): Promise<void> {
    const subscriptionId = parseInput(idParam, param, 'subscriptionId');
    await this.owned(principal, subscriptionId);
    const now = Date.now();
    await this.commands.applyAndThen(subscriptionId, { type: 'Delete', by: principal.subject, now }, (tx) => this.deliveries.abandonPendingOf(tx, subscriptionId, 'the subscription was deleted', now));
  }

  @Post(':subscriptionId/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'A new secret, shown this once; the previous one keeps signing deliveries for the grace period' })
  @ApiPathParam('subscriptionId', idParam)
  @ApiOkResponse({ description: 'The subscription and its new secret', schema: { ...WITH_SECRET_SCHEMA, required: ['subscription', 'secret', 'previousSecretExpiresAt'], properties: { ...WITH_SECRET_SCHEMA.properties, previousSecretExpiresAt: { type: 'string', format: 'date-time' } } } })
  @ApiErrors(400, 404)
  async rotate(@CurrentPrincipal() principal: Principal, @Param('subscriptionId') param: string) {
    const subscriptionId = parseInput(idParam, param, 'subscriptionId');
    await this.owned(principal, subscriptionId);
    const secret = secretFromRandomBytes(randomBytes(SECRET_BYTES));
    const now = Date.now();
    const { state } = await this.commands.apply(subscriptionId, { type: 'RotateSecret', secret, graceMs: this.settings.rotationGraceMs, by: principal.subject, now });
    return { subscription: view(state as ActiveSubscription), secret, previousSecretExpiresAt: new Date(now + this.settings.rotationGraceMs).toISOString() };
  }

  /** The subscription, if the caller may see it: another customer's answers 404 like one that does not exist. */
  private async owned(principal: Principal, subscriptionId: string): Promise<ActiveSubscription> {
    const row = (await this.commands.rows.get([subscriptionId])).get(subscriptionId);
    const state: SubscriptionState = row?.state ?? { status: 'None' };
    if (state.status !== 'Active' || (principal.role !== 'ops' && state.customerId !== principal.customerId)) throw new NotFoundError('subscription', subscriptionId);
    return state;
  }

  private refuseProblems(url: string | undefined, filter: SubscriptionFilter | undefined): void {
    const problems = [...(url === undefined ? [] : endpointUrlProblems(url, this.settings.urls)), ...(filter === undefined ? [] : filterProblems(filter, DELIVERABLE_EVENT_TYPES))];
    if (problems.length > 0) throw new RefusedInputError('INVALID_SUBSCRIPTION', problems);
  }
}

function view(state: ActiveSubscription) {
  const { health } = state;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const now = Date.now();
  return {
    subscriptionId: state.subscriptionId,
    customerId: state.customerId,
    url: state.url,
    description: state.description,
    filter: state.filter,
    enabled: state.enabled,
    health: { status: health.status, consecutiveFailures: health.status === 'disabled' ? 0 : health.consecutiveFailures, failingSince: iso(health.failingSince) },
    createdAt: new Date(state.createdAt).toISOString(),
    secretsInUse: state.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).length,
  };
}
