import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HealthController } from './health.controller';
import { FlotillaExceptionFilter } from './http/exception.filter';
import { AUTHENTICATOR, type Authenticator } from './http/principal';
import type { Platform } from './platform';
import { PLATFORM } from './service-kit.constants';

class PlatformLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PLATFORM) private readonly platform: Platform) {}

  // Nest has closed the microservice transports (consumers) by the time this runs.
  async onApplicationShutdown(): Promise<void> {
    await this.platform.stop();
  }
}

/**
 * Exposes an already started Platform to a service's Nest application, with what every HTTP API
 * shares: the authenticator (the guard itself is registered in the service's module, where it sees
 * the service's optional rate limiter) and the one mapping of the error model to HTTP statuses.
 */
@Global()
@Module({})
export class PlatformModule {
  static forPlatform(platform: Platform, authenticator: Authenticator): DynamicModule {
    return {
      module: PlatformModule,
      controllers: [HealthController],
      // Factories, not useValue: Nest would otherwise serialise the whole platform to compute the module's token.
      providers: [
        { provide: PLATFORM, useFactory: () => platform },
        { provide: AUTHENTICATOR, useFactory: () => authenticator },
        { provide: APP_FILTER, useFactory: () => new FlotillaExceptionFilter(platform.logger) },
        PlatformLifecycle,
      ],
      exports: [PLATFORM, AUTHENTICATOR],
    };
  }
}
