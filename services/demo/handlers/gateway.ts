import { RpcError, Status, context, sleep, type ServiceClient, type ServiceHandlers } from 'corpc';
import type { Accounts, Profiles, Wallets } from '../../generated/basic.ts';
import type { Gateway } from '../../generated/entry.ts';
import type { Payments, Social } from '../../generated/shared.ts';

/**
 * The entry service. Outside callers reach it through the HTTP entry, which puts the caller's
 * user id (the x-user-id header) in the request metadata; every downstream call inherits it,
 * with the business priority of the action and the user priority of the user.
 */

function callerId(): string {
  const userId = context().metadata['user-id'];
  if (userId === undefined || userId === '') {
    throw new RpcError(Status.UNAUTHENTICATED, 'no user id: send the x-user-id header', { reason: 'no_user' });
  }
  return userId;
}

export function gatewayHandlers(clients: {
  accounts: ServiceClient<typeof Accounts>;
  profiles: ServiceClient<typeof Profiles>;
  payments: ServiceClient<typeof Payments>;
  social: ServiceClient<typeof Social>;
  wallets: ServiceClient<typeof Wallets>;
}): ServiceHandlers<typeof Gateway> {
  const { accounts, profiles, payments, social, wallets } = clients;
  return {
    async login({ userId, password }) {
      const [check, profile] = await Promise.all([
        accounts.checkPassword({ userId, password }),
        profiles.getProfile({ userId }),
      ]);
      if (!check.ok) throw new RpcError(Status.PERMISSION_DENIED, 'wrong user id or password');
      return { session: `s-${context().traceId}`, displayName: profile.displayName };
    },
    async pay({ toUserId, cents }) {
      return payments.pay({ fromUserId: callerId(), toUserId, cents });
    },
    async sendMessage({ toUserId, text }) {
      return social.deliver({ fromUserId: callerId(), toUserId, text });
    },
    async postFeed({ text }) {
      return social.post({ userId: callerId(), text });
    },
    // A stream is a loop: each balance is a call made inside the stream's context (its deadline,
    // priorities and user), and sleep() ends with the stream when the caller leaves.
    async *watchBalance({ intervalMs, count }) {
      const userId = callerId();
      for (let sent = 0; count === 0 || sent < count; sent++) {
        if (sent > 0) await sleep(intervalMs > 0 ? intervalMs : 1000);
        yield await wallets.getBalance({ userId });
      }
    },
  };
}
