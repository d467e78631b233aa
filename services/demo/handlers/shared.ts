import { RpcError, Status, type ServiceClient, type ServiceHandlers } from 'corpc';
import type { Accounts, Messages, Profiles, Wallets } from '../../generated/basic.ts';
import type { Payments, Social } from '../../generated/shared.ts';

/** The shared services fan out: several basic calls in parallel, then one that depends on them. */

export function paymentsHandlers(
  accounts: ServiceClient<typeof Accounts>,
  wallets: ServiceClient<typeof Wallets>,
): ServiceHandlers<typeof Payments> {
  return {
    async pay({ fromUserId, toUserId, cents }) {
      const [from, to, balance] = await Promise.all([
        accounts.getAccount({ userId: fromUserId }),
        accounts.getAccount({ userId: toUserId }),
        wallets.getBalance({ userId: fromUserId }),
      ]);
      if (!from.active || !to.active) throw new RpcError(Status.FAILED_PRECONDITION, 'both accounts must be active');
      if (balance.cents < cents)
        throw new RpcError(Status.FAILED_PRECONDITION, `insufficient funds: balance ${balance.cents}`);
      return wallets.transfer({ fromUserId, toUserId, cents });
    },
  };
}

export function socialHandlers(
  accounts: ServiceClient<typeof Accounts>,
  profiles: ServiceClient<typeof Profiles>,
  messages: ServiceClient<typeof Messages>,
): ServiceHandlers<typeof Social> {
  return {
    async deliver({ fromUserId, toUserId, text }) {
      const [recipient] = await Promise.all([
        accounts.getAccount({ userId: toUserId }),
        profiles.getProfile({ userId: toUserId }),
      ]);
      if (!recipient.active) throw new RpcError(Status.NOT_FOUND, `no active user ${toUserId}`);
      return messages.storeMessage({ fromUserId, toUserId, text });
    },
    async post({ userId, text }) {
      await profiles.getProfile({ userId });
      return messages.appendFeed({ userId, text });
    },
  };
}
