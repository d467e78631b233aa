/**
 * The three-tier demo as a service module: `npx corpc run services/demo` (what `npm start` runs).
 * Entry: Gateway (also over HTTP/JSON). Shared: Payments, Social. Basic: Accounts, Profiles,
 * Wallets, Messages. Each unit listens on its own port; units call each other by name, at the
 * address configured for them (`services.<name>.address`, default 127.0.0.1:<port>).
 * Units are listed callers first: on shutdown they drain in this order.
 */
import { defineUnit } from 'corpc/runtime';
import { Accounts, Messages, Profiles, Wallets } from '../generated/basic.ts';
import { Gateway } from '../generated/entry.ts';
import { Payments, Social } from '../generated/shared.ts';
import { accountsHandlers, messagesHandlers, profilesHandlers, walletsHandlers } from './handlers/basic.ts';
import { gatewayHandlers } from './handlers/gateway.ts';
import { paymentsHandlers, socialHandlers } from './handlers/shared.ts';

export default {
  // `npx corpc list 127.0.0.1:7001` and `npx corpc call …` work against the demo.
  reflection: true,
  example: { method: 'Gateway/Pay', body: { toUserId: 'u-7', cents: 250 } },
  units: [
    defineUnit({
      name: 'gateway',
      service: Gateway,
      port: 7001,
      handlers: (env) =>
        gatewayHandlers({
          accounts: env.client(Accounts, 'accounts'),
          profiles: env.client(Profiles, 'profiles'),
          payments: env.client(Payments, 'payments'),
          social: env.client(Social, 'social'),
          wallets: env.client(Wallets, 'wallets'),
        }),
    }),
    defineUnit({
      name: 'payments',
      service: Payments,
      port: 7201,
      handlers: (env) => paymentsHandlers(env.client(Accounts, 'accounts'), env.client(Wallets, 'wallets')),
    }),
    defineUnit({
      name: 'social',
      service: Social,
      port: 7202,
      handlers: (env) =>
        socialHandlers(
          env.client(Accounts, 'accounts'),
          env.client(Profiles, 'profiles'),
          env.client(Messages, 'messages'),
        ),
    }),
    defineUnit({ name: 'accounts', service: Accounts, port: 7101, handlers: accountsHandlers }),
    defineUnit({ name: 'profiles', service: Profiles, port: 7102, handlers: profilesHandlers }),
    defineUnit({
      name: 'wallets',
      service: Wallets,
      port: 7103,
      defaults: { maxConcurrency: 4 },
      handlers: walletsHandlers,
    }),
    defineUnit({
      name: 'messages',
      service: Messages,
      port: 7104,
      defaults: { maxConcurrency: 2 },
      handlers: messagesHandlers,
    }),
  ],
};
