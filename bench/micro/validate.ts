/**
 * What validation costs: decoding a request body with and without the generated validating
 * decoder, and msgpackr's record extension against the plain maps corpc's protocol uses.
 *
 *   node --conditions=corpc-source --import tsx bench/micro/validate.ts
 *
 * Prints ns/op; asserts nothing.
 */
import { Packr, Unpackr } from 'msgpackr';
import { protocol } from 'corpc/internal';
import { decodeEchoRequest } from '../../services/generated/echo.ts';
import { decodeItem, decodeOrder, type Item, type Order } from '../../test/fixtures/codegen/generated/shop.ts';

const { packr, unpackr } = protocol;

function measure(name: string, iterations: number, run: () => unknown): void {
  let sink: unknown;
  for (let i = 0; i < iterations / 10; i++) sink = run(); // warm up
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink = run();
  const ns = Number(process.hrtime.bigint() - started) / iterations;
  console.log(`${name.padEnd(52)} ${ns.toFixed(0).padStart(7)} ns/op`);
  if (sink === Symbol.for('never')) console.log('');
}

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

const N = Number(process.env.N ?? 200_000);
const echoBytes = packr.pack({ text: 'hello' });
const itemBytes = packr.pack(item);
const orderBytes = packr.pack(order);

console.log(`node ${process.version}, ${N} iterations each`);
measure('echo {text}: unpack', N, () => unpackr.unpack(echoBytes));
measure('echo {text}: unpack + decodeEchoRequest', N, () => decodeEchoRequest(unpackr.unpack(echoBytes)));
measure('echo {text}: decodeEchoRequest only', N * 5, () => decodeEchoRequest({ text: 'hello' }));
const itemValue = unpackr.unpack(itemBytes);
measure(`Item (${itemBytes.length} B): unpack`, N, () => unpackr.unpack(itemBytes));
measure(`Item (${itemBytes.length} B): unpack + decodeItem`, N, () => decodeItem(unpackr.unpack(itemBytes)));
measure('Item: decodeItem only', N, () => decodeItem(itemValue));
const orderValue = unpackr.unpack(orderBytes);
measure(`Order, 4 items (${orderBytes.length} B): unpack`, N / 4, () => unpackr.unpack(orderBytes));
measure(`Order, 4 items (${orderBytes.length} B): unpack + decodeOrder`, N / 4, () => decodeOrder(unpackr.unpack(orderBytes)));
measure('Order: decodeOrder only', N / 4, () => decodeOrder(orderValue));

// Records: both sides share structure definitions, so keys are sent once per shape, not per value.
const structures: object[][] = [];
const recordPackr = new Packr({ useRecords: true, structures, moreTypes: false });
const recordUnpackr = new Unpackr({ useRecords: true, structures, mapsAsObjects: true });
const itemRecordBytes = recordPackr.pack(item);
const orderRecordBytes = recordPackr.pack(order);
measure(`Item, plain maps: pack (${itemBytes.length} B)`, N, () => packr.pack(item));
measure(`Item, records: pack (${itemRecordBytes.length} B)`, N, () => recordPackr.pack(item));
measure('Item, plain maps: unpack', N, () => unpackr.unpack(itemBytes));
measure('Item, records: unpack', N, () => recordUnpackr.unpack(itemRecordBytes));
measure(`Order, plain maps: pack (${orderBytes.length} B)`, N / 4, () => packr.pack(order));
measure(`Order, records: pack (${orderRecordBytes.length} B)`, N / 4, () => recordPackr.pack(order));
measure('Order, plain maps: unpack + decodeOrder', N / 4, () => decodeOrder(unpackr.unpack(orderBytes)));
measure('Order, records: unpack + decodeOrder', N / 4, () => decodeOrder(recordUnpackr.unpack(orderRecordBytes)));
