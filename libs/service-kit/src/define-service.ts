import type { TopicSpec } from '@flotilla/contracts';
import type { RetryOptions } from '@flotilla/messaging';
import { KafkaEventsTransport } from '@flotilla/messaging';
import type { Telemetry } from '@flotilla/observability';
import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD, ModuleRef } from '@nestjs/core';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import * as os from 'node:os';
import { z } from 'zod';
import { runService } from './bootstrap';
import { loadConfig, platformConfigSchema, type PlatformConfig } from './config';
import { waitUntilCaughtUp } from './catch-up';
import { createAuthenticator } from './http/auth-config';
import { AuthGuard } from './http/auth.guard';
import { kafkaConnectionProblems } from './kafka-connection';
import { RATE_LIMITER } from './http/auth.guard';
import { documentService } from './http/openapi';
import { Platform } from './platform';
import { PlatformModule } from './platform.module';
import { PLATFORM } from './service-kit.constants';

/** A consumer group of the service: which topics it reads; its @EventPattern handlers get their events. */
export interface ConsumerDeclaration {
  /** Logical name; the group is `flotilla.<service>.<name>` (namespaced in tests). */
  readonly name: string;
  readonly topics: readonly (TopicSpec | string)[];
  /** 'partition' for handlers that checkpoint offsets (see EventConsumerOptions.ordering). */
  readonly ordering?: 'key' | 'partition';
  /** Every instance reads every message (a group per instance, from now on): cancellations, commands to pools. */
  readonly broadcast?: boolean;
  readonly retry?: RetryOptions;
}

/** Something the service runs in the background once its consumers have joined (timers, admission, reports). */
export interface BackgroundWork {
  start(): void;
  stop(): Promise<void>;
}

export interface ServiceContext<Config> {
  readonly platform: Platform;
  readonly config: Config;
}

export interface ServiceDeclaration<Shape extends z.ZodRawShape, Config = PlatformConfig & z.infer<z.ZodObject<Shape>>> {
  readonly name: string;
  readonly httpPort: number;
  /** The service's own variables, validated with the platform's at boot (a bad one stops the process, naming it). */
  readonly config?: Shape;
  /** Cross-variable rules of the service's configuration: a problem message naming the variable, or null. */
  readonly checkConfig?: (config: Config) => string | null;
  /** The service's own migrations (read models, lookup tables), after the event store's. */
  readonly migrationsDir?: string;
  readonly consumers?: readonly ConsumerDeclaration[];
  /** HTTP controllers and @EventPattern handler classes. */
  readonly controllers?: readonly Type<unknown>[];
  /**
   * The service's objects, built from its platform and configuration; with `close` when some of them
   * hold clients of their own (Redis), closed when the application stops, before the platform.
   */
  readonly providers?: (context: ServiceContext<Config>) => ServiceProviders | Promise<ServiceProviders>;
  /** DI tokens of BackgroundWork started once the consumers have joined, stopped before the platform. */
  readonly background?: readonly symbol[];
  /**
   * Background work that acts on nothing the consumers keep (it reads its own durable rows), started
   * as soon as the application is up: a restarted service does not hold it back while its consumers
   * wait out a dead predecessor's Kafka session.
   */
  readonly backgroundAtOnce?: readonly symbol[];
  /** Transports beyond the declared consumers (the agent pool's dispatch consumer, whose topics come from its configuration). */
  readonly transports?: (context: ServiceContext<Config>, providers: ProviderLookup) => CustomTransportStrategy[];
  /** Keep each request's body as received (`request.rawBody`): inbound webhooks verify a signature over the exact bytes. */
  readonly rawBody?: boolean;
  /** Swagger/OpenAPI: served at /openapi.json and /docs. */
  readonly openApi: { readonly title: string; readonly description: string };
}

export type ServiceProviders = Provider[] | { readonly providers: Provider[]; readonly close: () => Promise<void> };

/** Reads a provider the service declared, by its token, while the transports are built. */
export type ProviderLookup = <T>(token: symbol) => T;

/**
 * A service, declared rather than wired: configuration, migrations, consumers, HTTP controllers,
 * background work and OpenAPI. The kit adds what every service has: Kafka, the registry, the event
 * store and its outbox relay, health and readiness, metrics, the one authenticator on every route,
 * the one mapping of errors to HTTP statuses, and graceful shutdown.
 */
export function defineService<Shape extends z.ZodRawShape>(telemetry: Telemetry, declaration: ServiceDeclaration<Shape>): Promise<NestFastifyApplication> {
  type Config = PlatformConfig & z.infer<z.ZodObject<Shape>>;
  return runService(telemetry, async () => {
    const schema = platformConfigSchema
      .extend({ HTTP_PORT: platformConfigSchema.shape.HTTP_PORT.default(declaration.httpPort), ...(declaration.config ?? {}) })
      .superRefine((value, context) => {
        // Rules across variables, reported like any other bad variable (exit 78, every problem named).
        for (const { variable, message } of kafkaConnectionProblems(value)) context.addIssue({ code: z.ZodIssueCode.custom, path: [variable], message });
        const problem = declaration.checkConfig?.(value as Config);
        if (problem) context.addIssue({ code: z.ZodIssueCode.custom, message: problem });
      });
    const config = loadConfig(schema) as Config;
    const platform = new Platform({ serviceName: declaration.name, config, telemetry, serviceMigrationsDir: declaration.migrationsDir });
    const context: ServiceContext<Config> = { platform, config };
    const authenticator = await createAuthenticator(config, platform.logger);
    const built = (await declaration.providers?.(context)) ?? [];
    const providers = Array.isArray(built) ? built : built.providers;
    const close = Array.isArray(built) ? async () => {} : built.close;
    const byToken = new Map(providers.flatMap((p) => (typeof p === 'object' && 'provide' in p ? [[p.provide, p] as const] : [])));
    const lookup: ProviderLookup = <T>(token: symbol): T => {
      const provider = byToken.get(token) as { useValue?: T; useFactory?: () => T } | undefined;
      if (provider?.useValue !== undefined) return provider.useValue;
      if (provider?.useFactory && provider.useFactory.length === 0) return provider.useFactory();
      throw new Error(`${String(token)} must be provided with useValue or an argument-free useFactory to be used by a transport`);
    };

    const background = declaration.background ?? [];
    // Broadcast groups start at the end of their topics: there is nothing for them to catch up with.
    const catchUpGroups = (declaration.consumers ?? [])
      .filter((consumer) => !consumer.broadcast)
      .map((consumer) => ({ groupId: platform.groupId(consumer.name), topics: consumer.topics.map((t) => platform.topic(typeof t === 'string' ? t : t.name)) }));
    class BackgroundLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
      private readonly started: BackgroundWork[] = [];
      constructor(
        private readonly moduleRef: ModuleRef,
        @Inject(PLATFORM) private readonly kit: Platform,
      ) {}

      private stopping = false;

      onApplicationBootstrap(): void {
        const atOnce = (declaration.backgroundAtOnce ?? []).map((token) => this.moduleRef.get<BackgroundWork>(token, { strict: false }));
        this.started.push(...atOnce);
        for (const work of atOnce) work.start();
        if (background.length === 0) return;
        // Not before the consumers have joined and caught up with what arrived before the start: work
        // that acts on the state consumers keep (a due heartbeat timer, a free slot) must not run while
        // a restarted service still reads the heartbeats and completions it missed.
        void this.kit.consumersJoined
          .then(() => waitUntilCaughtUp(this.kit.kafka, catchUpGroups, { logger: this.kit.logger }))
          .then(() => {
            if (this.stopping) return;
            const later = background.map((token) => this.moduleRef.get<BackgroundWork>(token, { strict: false }));
            this.started.push(...later);
            for (const work of later) work.start();
          });
      }

      async beforeApplicationShutdown(): Promise<void> {
        this.stopping = true;
        await Promise.all(this.started.map((work) => work.stop()));
        await close();
      }
    }

    @Module({})
    class ServiceModule {}
    const module: DynamicModule = {
      module: ServiceModule,
      imports: [PlatformModule.forPlatform(platform, authenticator)],
      controllers: [...(declaration.controllers ?? [])],
      // The guard is registered here, not in the platform module: it injects the service's rate limiter, if any.
      providers: [...providers, BackgroundLifecycle, { provide: APP_GUARD, useClass: AuthGuard }],
    };

    const consumerTransports = (declaration.consumers ?? []).map(
      (consumer) =>
        new KafkaEventsTransport((handler) =>
          platform.createConsumer({
            name: consumer.broadcast ? `${consumer.name}.${os.hostname()}.${process.pid}` : consumer.name,
            topics: consumer.topics.map((t) => platform.topic(typeof t === 'string' ? t : t.name)),
            ordering: consumer.ordering,
            retry: consumer.retry,
            fromBeginning: !consumer.broadcast,
            handler,
          }),
        ),
    );
    return {
      platform,
      module,
      rawBody: declaration.rawBody,
      transports: [...consumerTransports, ...(declaration.transports?.(context, lookup) ?? [])],
      configure: (app: NestFastifyApplication) => {
        const document = SwaggerModule.createDocument(
          app,
          new DocumentBuilder()
            .setTitle(declaration.openApi.title)
            .setDescription(declaration.openApi.description)
            .setVersion('1')
            .addBearerAuth()
            .addSecurity('access_token', { type: 'apiKey', in: 'query', name: 'access_token', description: 'the bearer token in the query, for clients that cannot set headers (EventSource); Authorization wins when both are given' })
            .build(),
        );
        documentService(document, { rateLimited: byToken.has(RATE_LIMITER) });
        SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
      },
    };
  });
}
