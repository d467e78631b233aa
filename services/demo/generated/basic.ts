// Hand-written to match what `npx corpc gen services/demo/basic.proto` emits; replaced by generated code.
import { defineService, method } from 'corpc';
import { decoder } from './check.ts';

export interface UserRef {
  userId: string;
}
export interface Account {
  userId: string;
  name: string;
  active: boolean;
}
export interface CheckPasswordRequest {
  userId: string;
  password: string;
}
export interface CheckPasswordReply {
  ok: boolean;
}
export interface Profile {
  userId: string;
  displayName: string;
  friends: number;
}
export interface Balance {
  userId: string;
  cents: number;
}
export interface TransferRequest {
  fromUserId: string;
  toUserId: string;
  cents: number;
}
export interface TransferReply {
  transferId: string;
  balanceCents: number;
}
export interface StoreMessageRequest {
  fromUserId: string;
  toUserId: string;
  text: string;
}
export interface StoreMessageReply {
  messageId: string;
}
export interface AppendFeedRequest {
  userId: string;
  text: string;
}
export interface AppendFeedReply {
  postId: string;
}

const decodeUserRef = decoder<UserRef>('UserRef', { userId: 'string' });
const decodeAccount = decoder<Account>('Account', { userId: 'string', name: 'string', active: 'bool' });
const decodeTransferReply = decoder<TransferReply>('TransferReply', { transferId: 'string', balanceCents: 'int32' });
const decodeStoreMessageReply = decoder<StoreMessageReply>('StoreMessageReply', { messageId: 'string' });
const decodeAppendFeedReply = decoder<AppendFeedReply>('AppendFeedReply', { postId: 'string' });

export const Accounts = defineService('Accounts', {
  getAccount: method<UserRef, Account>({ path: 'Accounts/GetAccount', decodeRequest: decodeUserRef, decodeResponse: decodeAccount }),
  checkPassword: method<CheckPasswordRequest, CheckPasswordReply>({
    path: 'Accounts/CheckPassword',
    decodeRequest: decoder('CheckPasswordRequest', { userId: 'string', password: 'string' }),
    decodeResponse: decoder('CheckPasswordReply', { ok: 'bool' }),
  }),
});

export const Profiles = defineService('Profiles', {
  getProfile: method<UserRef, Profile>({
    path: 'Profiles/GetProfile',
    decodeRequest: decodeUserRef,
    decodeResponse: decoder('Profile', { userId: 'string', displayName: 'string', friends: 'int32' }),
  }),
});

export const Wallets = defineService('Wallets', {
  getBalance: method<UserRef, Balance>({
    path: 'Wallets/GetBalance',
    decodeRequest: decodeUserRef,
    decodeResponse: decoder('Balance', { userId: 'string', cents: 'int32' }),
  }),
  transfer: method<TransferRequest, TransferReply>({
    path: 'Wallets/Transfer',
    decodeRequest: decoder('TransferRequest', { fromUserId: 'string', toUserId: 'string', cents: 'int32' }),
    decodeResponse: decodeTransferReply,
  }),
});

export const Messages = defineService('Messages', {
  storeMessage: method<StoreMessageRequest, StoreMessageReply>({
    path: 'Messages/StoreMessage',
    decodeRequest: decoder('StoreMessageRequest', { fromUserId: 'string', toUserId: 'string', text: 'string' }),
    decodeResponse: decodeStoreMessageReply,
  }),
  appendFeed: method<AppendFeedRequest, AppendFeedReply>({
    path: 'Messages/AppendFeed',
    decodeRequest: decoder('AppendFeedRequest', { userId: 'string', text: 'string' }),
    decodeResponse: decodeAppendFeedReply,
  }),
});

export { decodeAppendFeedReply, decodeStoreMessageReply, decodeTransferReply };
