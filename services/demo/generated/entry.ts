// Hand-written to match what `npx corpc gen services/demo/entry.proto` emits; replaced by generated code.
import { defineService, method } from 'corpc';
import { decoder } from './check.ts';
import {
  decodeAppendFeedReply,
  decodeStoreMessageReply,
  decodeTransferReply,
  type AppendFeedReply,
  type StoreMessageReply,
  type TransferReply,
} from './basic.ts';

export interface LoginRequest {
  userId: string;
  password: string;
}
export interface LoginReply {
  session: string;
  displayName: string;
}
export interface PayRequest {
  toUserId: string;
  cents: number;
}
export interface SendMessageRequest {
  toUserId: string;
  text: string;
}
export interface PostFeedRequest {
  text: string;
}

export const Gateway = defineService(
  'Gateway',
  {
    login: method<LoginRequest, LoginReply>({
      path: 'Gateway/Login',
      businessPriority: 0,
      decodeRequest: decoder('LoginRequest', { userId: 'string', password: 'string' }),
      decodeResponse: decoder('LoginReply', { session: 'string', displayName: 'string' }),
    }),
    pay: method<PayRequest, TransferReply>({
      path: 'Gateway/Pay',
      businessPriority: 1,
      decodeRequest: decoder('PayRequest', { toUserId: 'string', cents: 'int32' }),
      decodeResponse: decodeTransferReply,
    }),
    sendMessage: method<SendMessageRequest, StoreMessageReply>({
      path: 'Gateway/SendMessage',
      businessPriority: 2,
      decodeRequest: decoder('SendMessageRequest', { toUserId: 'string', text: 'string' }),
      decodeResponse: decodeStoreMessageReply,
    }),
    postFeed: method<PostFeedRequest, AppendFeedReply>({
      path: 'Gateway/PostFeed',
      businessPriority: 3,
      decodeRequest: decoder('PostFeedRequest', { text: 'string' }),
      decodeResponse: decodeAppendFeedReply,
    }),
  },
  { entry: true },
);
