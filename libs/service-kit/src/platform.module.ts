import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { HealthController } from './health.controller';
import type { Platform } from './platform';
import { PLATFORM } from './service-kit.constants';

class PlatformLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PLATFORM) private readonly platform: Platform) {}

  // Nest has closed the microservice transports (consumers) by the time this runs.
  async onApplicationShutdown(): Promise<void> {
    await this.platform.stop();
  }
}

/** Exposes an already started Platform to a service's Nest application. */
@Global()
@Module({})
export class PlatformModule {
  static forPlatform(platform: Platform): DynamicModule {
    return {
      module: PlatformModule,
      controllers: [HealthController],
      // A factory, not useValue: Nest would otherwise serialise the whole platform to compute the module's token.
      providers: [{ provide: PLATFORM, useFactory: () => platform }, PlatformLifecycle],
      exports: [PLATFORM],
    };
  }
}
