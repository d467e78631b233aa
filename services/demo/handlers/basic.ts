import { RpcError, Status, type ServiceHandlers } from 'corpc';
import type { Accounts, Messages, Profiles, Wallets } from '../../generated/basic.ts';
import { serviceTimeMs, work } from './service-time.ts';

/** The basic services keep their data in memory: enough to make the demo's answers believable. */

function displayName(userId: string): string {
  return userId.replace(/^u-/, 'User ');
}

export function accountsHandlers(): ServiceHandlers<typeof Accounts> {
  return {
    async getAccount({ userId }) {
      if (userId === '') throw new RpcError(Status.INVALID_ARGUMENT, 'userId is required');
      await work(serviceTimeMs.getAccount);
      return { userId, name: displayName(userId), active: !userId.startsWith('banned-') };
    },
    async checkPassword({ userId, password }) {
      await work(serviceTimeMs.checkPassword);
      return { ok: userId !== '' && password !== '' };
    },
  };
}

export function profilesHandlers(): ServiceHandlers<typeof Profiles> {
  return {
    async getProfile({ userId }) {
      await work(serviceTimeMs.getProfile);
      let friends = 0;
      for (let i = 0; i < userId.length; i++) friends = (friends * 31 + userId.charCodeAt(i)) % 500;
      return { userId, displayName: displayName(userId), friends };
    },
  };
}

export function walletsHandlers(): ServiceHandlers<typeof Wallets> {
  const balances = new Map<string, number>();
  const balanceOf = (userId: string): number => balances.get(userId) ?? 100_000;
  let transfers = 0;
  return {
    async getBalance({ userId }) {
      await work(serviceTimeMs.getBalance);
      return { userId, cents: balanceOf(userId) };
    },
    async transfer({ fromUserId, toUserId, cents }) {
      if (cents <= 0) throw new RpcError(Status.INVALID_ARGUMENT, `cents must be positive, got ${cents}`);
      await work(serviceTimeMs.transfer);
      const from = balanceOf(fromUserId);
      if (from < cents)
        throw new RpcError(Status.FAILED_PRECONDITION, `insufficient funds: balance ${from}, transfer ${cents}`);
      balances.set(fromUserId, from - cents);
      balances.set(toUserId, balanceOf(toUserId) + cents);
      return { transferId: `t-${process.pid}-${++transfers}`, balanceCents: from - cents };
    },
  };
}

export function messagesHandlers(): ServiceHandlers<typeof Messages> {
  let messages = 0;
  let posts = 0;
  return {
    async storeMessage({ text }) {
      if (text === '') throw new RpcError(Status.INVALID_ARGUMENT, 'text is required');
      await work(serviceTimeMs.storeMessage);
      return { messageId: `m-${process.pid}-${++messages}` };
    },
    async appendFeed({ text }) {
      if (text === '') throw new RpcError(Status.INVALID_ARGUMENT, 'text is required');
      await work(serviceTimeMs.appendFeed);
      return { postId: `p-${process.pid}-${++posts}` };
    },
  };
}
