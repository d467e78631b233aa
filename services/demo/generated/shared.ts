// Hand-written to match what `npx corpc gen services/demo/shared.proto` emits; replaced by generated code.
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

export interface PaymentRequest {
  fromUserId: string;
  toUserId: string;
  cents: number;
}
export interface DeliverRequest {
  fromUserId: string;
  toUserId: string;
  text: string;
}
export interface PostRequest {
  userId: string;
  text: string;
}

export const Payments = defineService('Payments', {
  pay: method<PaymentRequest, TransferReply>({
    path: 'Payments/Pay',
    decodeRequest: decoder('PaymentRequest', { fromUserId: 'string', toUserId: 'string', cents: 'int32' }),
    decodeResponse: decodeTransferReply,
  }),
});

export const Social = defineService('Social', {
  deliver: method<DeliverRequest, StoreMessageReply>({
    path: 'Social/Deliver',
    decodeRequest: decoder('DeliverRequest', { fromUserId: 'string', toUserId: 'string', text: 'string' }),
    decodeResponse: decodeStoreMessageReply,
  }),
  post: method<PostRequest, AppendFeedReply>({
    path: 'Social/Post',
    decodeRequest: decoder('PostRequest', { userId: 'string', text: 'string' }),
    decodeResponse: decodeAppendFeedReply,
  }),
});
