/**
 * What validation costs: decoding a request body with and without the generated validating
 * decoder, rejecting a bad one, and msgpackr's record extension against the plain maps corpc's
 * protocol uses.
 *
 *   npm run bench -- micro validate
 *   node --conditions=corpc-source --import tsx bench/micro/validate.ts
 *
 * Prints ns/op (best of a few batches); asserts nothing.
 */
import { pathToFileURL } from 'node:url';
import { Packr, Unpackr } from 'msgpackr';
import { RpcError } from 'corpc';
import { protocol } from 'corpc/internal';
import { decodeEchoRequest } from '../../services/generated/echo.ts';
import { Catalog, decodeItem, decodeOrder, type Item, type Order } from '../../test/fixtures/codegen/generated/shop.ts';
import { measure, print, type MicroResult } from './measure.ts';

const { packr, unpackr } = protocol;

const item: Item = {
  id: 'sku-1234',
  name: 'A small teapot',
  price: { currency: 'EUR', units: 1250 },
  tags: ['kitchen', 'tea', 'gift'],
  color: 2,
  size: 10,
  stockByStore: { north: 3, south: 0, east: 12 },
  thumbnail: new Uint8Array(64),
  active: true,
  rating: 4.5,
  views: 1234,
  reviews: [
    { author: 'ann', stars: 5 },
    { author: 'bob', stars: 3 },
  ],
};
const order: Order = {
  id: 99,
  items: [item, item, item, item],
  reviewsByLine: {},
  quantities: [1, 2, 1, 4],
  checksum: 7,
  flags: {},
  address: 'Main Street 1',
};
/** An order whose second item has a price of the wrong type: `items[1].price.units`. */
const badOrder = { ...order, items: [item, { ...item, price: { currency: 'EUR', units: 'ten' } }] };

/** Runs a decoder that must reject, returning the error (so the bench measures building it). */
function rejected(decode: (value: unknown) => unknown, value: unknown): unknown {
  try {
    decode(value);
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error('the bad value was accepted');
}

export async function main(): Promise<MicroResult[]> {
  const echoBytes = packr.pack({ text: 'hello' });
  const itemBytes = packr.pack(item);
  const orderBytes = packr.pack(order);
  const itemValue = unpackr.unpack(itemBytes) as unknown;
  const orderValue = unpackr.unpack(orderBytes) as unknown;
  const { decodeRequest, decodeResponse } = Catalog.methods.placeOrder;
  const decodeItemResponse = Catalog.methods.getItem.decodeResponse;

  // Records: both sides share structure definitions, so keys are sent once per shape, not per value.
  const structures: object[][] = [];
  const recordPackr = new Packr({ useRecords: true, structures, moreTypes: false });
  const recordUnpackr = new Unpackr({ useRecords: true, structures, mapsAsObjects: true });
  const itemRecordBytes = recordPackr.pack(item);
  const orderRecordBytes = recordPackr.pack(order);

  return [
    await measure('echo {text}: unpack', () => unpackr.unpack(echoBytes)),
    await measure('echo {text}: unpack + decodeEchoRequest', () => decodeEchoRequest(unpackr.unpack(echoBytes))),
    await measure('echo {text}: decodeEchoRequest only', () => decodeEchoRequest({ text: 'hello' })),
    await measure(`Item (${itemBytes.length} B): unpack`, () => unpackr.unpack(itemBytes)),
    await measure(`Item (${itemBytes.length} B): unpack + decodeItem`, () => decodeItem(unpackr.unpack(itemBytes))),
    await measure('Item: decodeItem only', () => decodeItem(itemValue)),
    await measure('Item: getItem.decodeResponse (method wrapper)', () => decodeItemResponse!(itemValue)),
    await measure(`Order, 4 items (${orderBytes.length} B): unpack`, () => unpackr.unpack(orderBytes)),
    await measure(`Order, 4 items (${orderBytes.length} B): unpack + decodeOrder`, () =>
      decodeOrder(unpackr.unpack(orderBytes)),
    ),
    await measure('Order: decodeOrder only', () => decodeOrder(orderValue)),
    await measure('Order: placeOrder.decodeResponse of a reply', () =>
      decodeResponse!({ orderId: 1, total: item.price }),
    ),
    await measure('Order: rejecting items[1].price.units (error built)', () => rejected(decodeRequest!, badOrder)),
    await measure(`Item, plain maps: pack (${itemBytes.length} B)`, () => packr.pack(item)),
    await measure(`Item, records: pack (${itemRecordBytes.length} B)`, () => recordPackr.pack(item)),
    await measure('Item, plain maps: unpack', () => unpackr.unpack(itemBytes)),
    await measure('Item, records: unpack', () => recordUnpackr.unpack(itemRecordBytes)),
    await measure(`Order, plain maps: pack (${orderBytes.length} B)`, () => packr.pack(order)),
    await measure(`Order, records: pack (${orderRecordBytes.length} B)`, () => recordPackr.pack(order)),
    await measure('Order, plain maps: unpack + decodeOrder', () => decodeOrder(unpackr.unpack(orderBytes))),
    await measure('Order, records: unpack + decodeOrder', () => decodeOrder(recordUnpackr.unpack(orderRecordBytes))),
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`node ${process.version}`);
  print(await main());
}
