import { ApiErrors, ApiPathParam, CurrentPrincipal, parseInput, text, type Principal } from '@flotilla/service-kit';
import { Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DELIVERIES } from '../notification.constants';
import type { Deliveries } from './deliveries';

const deliveryIdParam = text().min(1).max(100).describe('the delivery id (the webhook-id header)');

/** Commands on deliveries; reading them is the projection's (GET /v1/notifications/deliveries). */
@ApiTags('deliveries')
@ApiBearerAuth()
@Controller('v1/deliveries')
export class DeliveriesController {
  constructor(@Inject(DELIVERIES) private readonly deliveries: Deliveries) {}

  @Post(':deliveryId/replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a dead-lettered delivery again, from the start of the retry schedule, with the same webhook-id' })
  @ApiPathParam('deliveryId', deliveryIdParam)
  @ApiAcceptedResponse({
    description: 'Pending again',
    schema: { type: 'object', required: ['deliveryId', 'subscriptionId', 'status', 'attempts'], properties: { deliveryId: { type: 'string' }, subscriptionId: { type: 'string' }, status: { type: 'string' }, attempts: { type: 'integer' } } },
  })
  @ApiErrors(400, 404, { status: 409, description: 'The delivery is not dead-lettered' })
  async replay(@CurrentPrincipal() principal: Principal, @Param('deliveryId') param: string) {
    const deliveryId = parseInput(deliveryIdParam, param, 'deliveryId');
    const delivery = await this.deliveries.replay(deliveryId, principal.subject, (d) => principal.role === 'ops' || d.customerId === principal.customerId);
    return { deliveryId: delivery.deliveryId, subscriptionId: delivery.subscriptionId, status: delivery.status, attempts: delivery.attempts };
  }
}
