import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError, Status, createClient, type RequestContext } from 'corpc';
import { protocol } from 'corpc/internal';
import { RawPeer } from './helpers/raw-peer.ts';
import { delay, rejection } from './helpers/servers.ts';
import {
  Catalog,
  Color,
  Size,
  type CatalogHandlers,
  type Item,
  type Order,
} from './fixtures/codegen/generated/shop.ts';
import { scopedTest } from './helpers/scope.ts';

const { FrameKind, PREFACE, unpackr } = protocol;

function item(id: string): Item {
  return {
    id,
    name: `item ${id}`,
    price: { currency: 'EUR', units: 1250 },
    tags: ['a'],
    color: Color.GREEN,
    size: Size.SMALL,
    stockByStore: { north: 3 },
    thumbnail: new Uint8Array([1, 2, 3]),
    active: true,
    rating: 4.5,
    views: 7,
    reviews: [{ author: 'ann', stars: -1 }],
  };
}

/** Handlers that record what they were called with. */
class RecordingCatalog implements CatalogHandlers {
  readonly seen: unknown[] = [];
  getItem = (request: { id: string }): Item => {
    this.seen.push(request);
    return item(request.id);
  };
  listItems = (request: { colors: Color[] }) => {
    this.seen.push(request);
    return { items: request.colors.map((c) => ({ ...item(String(c)), color: c })) };
  };
  placeOrder = (order: Order, context: RequestContext) => {
    this.seen.push(order);
    return {
      orderId: order.id + context.businessPriority,
      total: { currency: 'EUR', units: order.quantities.reduce((a, b) => a + b, 0) },
    };
  };
}

test('the descriptor carries the IDL names and corpc options', () => {
  assert.is(Catalog.name, 'shop.Catalog');
  assert.is(Catalog.entry, true);
  assert.equal(Object.keys(Catalog.methods), ['getItem', 'listItems', 'placeOrder']);
  const getItem = Catalog.methods.getItem;
  assert.equal(
    [getItem.name, getItem.path, getItem.timeoutMs, getItem.businessPriority, getItem.idempotent],
    ['getItem', 'shop.Catalog/GetItem', 300, 2, true],
  );
  assert.equal(
    [Catalog.methods.listItems.timeoutMs, Catalog.methods.listItems.businessPriority],
    [undefined, undefined],
  );
});

scopedTest('calls through the generated client round-trip typed values, filling proto3 defaults', async (t) => {
  const handlers = new RecordingCatalog();
  const { target } = await t.serve(Catalog, handlers);
  const client = t.client(Catalog, target);
  const got = await client.getItem({ id: 'x1' });
  assert.equal({ ...got, thumbnail: [...got.thumbnail] }, { ...item('x1'), thumbnail: [1, 2, 3] });
  const list = await client.listItems({ colors: [Color.RED, Color.GREEN] });
  assert.equal(
    list.items.map((i) => i.color),
    [1, 2],
  );
  // shop.Catalog is an entry service: it assigns PlaceOrder's business priority (0, from the IDL)
  // and ignores the 1 the outside caller sent.
  const reply = await client.placeOrder(
    { ...emptyOrder(), id: 41, quantities: [2, 3], pickupStore: 'north' },
    { businessPriority: 1 },
  );
  assert.equal(reply, { orderId: 41, total: { currency: 'EUR', units: 5 } });
  // A body with fields left out is completed with proto3 defaults before the handler sees it.
  const channel = client.channel;
  await channel.call(Catalog.methods.placeOrder, { id: 1 } as unknown as Order);
  const order = handlers.seen.at(-1) as Order;
  assert.equal(order.items, []);
  assert.equal(order.flags, {});
  assert.is(order.checksum, 0);
  assert.is(order.address, undefined);
});

scopedTest(
  'partial messages both ways: the handler receives and the client gets whole messages, defaults filled at every depth',
  async (t) => {
    const seen: Order[] = [];
    const handlers: CatalogHandlers = {
      // Answers leave out fields, nested ones too: the client's decoder completes them.
      getItem: ({ id }) => ({ id, price: { units: 3 }, reviews: [{ author: 'ann' }] }),
      listItems: () => ({ items: [{}, { name: 'b' }] }),
      placeOrder: (order) => {
        seen.push(order);
        return {};
      },
    };
    const { target } = await t.serve(Catalog, handlers);
    const client = t.client(Catalog, target);
    const got = await client.getItem({ id: 'p1' });
    assert.equal(
      { ...got, thumbnail: [...got.thumbnail] },
      {
        id: 'p1',
        name: '',
        price: { currency: '', units: 3 },
        tags: [],
        color: 0,
        size: undefined,
        stockByStore: {},
        thumbnail: [],
        active: false,
        rating: 0,
        views: 0,
        reviews: [{ author: 'ann', stars: 0 }],
      },
    );
    const list = await client.listItems({});
    assert.equal(
      list.items.map((item) => [item.name, item.price, item.reviews]),
      [
        ['', { currency: '', units: 0 }, []],
        ['b', { currency: '', units: 0 }, []],
      ],
    );
    assert.equal(await client.placeOrder({ items: [{ price: {} }], reviewsByLine: { 3: {} } }), {
      orderId: 0,
      total: { currency: '', units: 0 },
    });
    const order = seen[0]!;
    assert.equal([order.id, order.quantities, order.flags, order.parent], [0, [], {}, undefined]);
    assert.equal(
      [order.items[0]!.id, order.items[0]!.price, order.items[0]!.tags],
      ['', { currency: '', units: 0 }, []],
    );
    assert.equal(order.reviewsByLine, { 3: { author: '', stars: 0 } });
  },
);

function emptyOrder(): Order {
  return { id: 0, items: [], reviewsByLine: {}, quantities: [], checksum: 0, flags: {} };
}

/** Sends one request with `body` from a hand-driven client and returns the server's ERROR fields. */
async function rawCall(
  port: number,
  method: string,
  body: unknown,
): Promise<{ status: number; message: string; reason: string }> {
  const peer = await RawPeer.connect(port);
  try {
    peer.preface();
    peer.write(peer.request(1, [method, 2000, 0, 0, 'raw-trace', null], body));
    for (let waited = 0; peer.frameKinds().length === 0; waited += 10) {
      if (waited > 5000) throw new Error('no answer from the server');
      await delay(10);
    }
    assert.equal(peer.frameKinds(), [FrameKind.ERROR]);
    const start = PREFACE.length;
    const end = start + 4 + peer.received.readUInt32BE(start);
    const [status, message, reason] = unpackr.unpack(peer.received.subarray(start + 11, end)) as [
      number,
      string,
      string,
    ];
    return { status, message, reason };
  } finally {
    peer.destroy();
  }
}

scopedTest(
  'a malformed body from a raw client is answered INVALID_ARGUMENT naming the field path; the handler never runs',
  async (t) => {
    const handlers = new RecordingCatalog();
    const { port } = await t.serve(Catalog, handlers);
    const cases: [unknown, RegExp][] = [
      [
        { id: 1, items: [item('a'), { ...item('b'), price: { currency: 'EUR', units: 'ten' } }] },
        /field "items\[1\]\.price\.units" must be an integer/,
      ],
      [
        { items: [{ ...item('a'), color: 9 }] },
        /field "items\[0\]\.color" must be one of the values of enum shop\.Color \(0, 1, 2\), got 9/,
      ],
      [
        { items: [{ ...item('a'), size: 20 }] },
        /field "items\[0\]\.size" must be one of the values of enum shop\.Size/,
      ],
      [{ reviewsByLine: { 7: { author: 3 } } }, /field "reviewsByLine\["7"\]\.author" must be a string, got 3/],
      [{ reviewsByLine: { seven: { author: 'x' } } }, /field "reviewsByLine\["seven"\]" must be a key of type uint32/],
      [{ quantities: [1, 2.5] }, /field "quantities\[1\]" must be an integer/],
      [{ id: -1 }, /field "id" must be an integer in 0\.\.2\^53-1, got -1/],
      [
        { address: 'a', pickupStore: 'b' },
        /field "delivery" has more than one of its members set \(address, pickupStore\)/,
      ],
      [
        { parent: { parent: { checksum: -1 } } },
        /field "parent\.parent\.checksum" must be an integer in 0\.\.4294967295, got -1/,
      ],
      [{ items: 'none' }, /field "items" must be a list, got "none"/],
      ['just a string', /the request must be an object, got "just a string"/],
    ];
    for (const [body, pattern] of cases) {
      const answer = await rawCall(port, 'shop.Catalog/PlaceOrder', body);
      assert.is(answer.status, Status.INVALID_ARGUMENT, answer.message);
      assert.is(answer.reason, 'invalid_request', answer.message);
      assert.match(answer.message, /^shop\.Catalog\/PlaceOrder: /);
      assert.match(answer.message, pattern);
    }
    assert.equal(handlers.seen, []);
    // 64-bit integers may arrive as msgpack int64 (a bigint once decoded): accepted in the safe range.
    const client = createClient(Catalog, `127.0.0.1:${port}`);
    try {
      await client.channel.call(Catalog.methods.placeOrder, { id: 5n, quantities: [1n] } as unknown as Order);
      assert.equal([(handlers.seen[0] as Order).id, (handlers.seen[0] as Order).quantities], [5, [1]]);
      const tooBig = (await rejection(
        client.channel.call(Catalog.methods.placeOrder, { id: 2n ** 60n } as unknown as Order),
      )) as RpcError;
      assert.is(tooBig.code, 'INVALID_ARGUMENT');
      assert.match(tooBig.message, /field "id" must be an integer in 0\.\.2\^53-1, got 1152921504606846976n/);
    } finally {
      await client.close();
    }
  },
);

scopedTest('a response that does not match its message fails on the client, naming the field', async (t) => {
  const handlers = new RecordingCatalog();
  handlers.getItem = () => ({ ...item('x'), reviews: [{ author: 'a', stars: 'five' }] }) as unknown as Item;
  const { target } = await t.serve(Catalog, handlers);
  const client = t.client(Catalog, target);
  const error = (await rejection(client.getItem({ id: 'x' }))) as RpcError;
  assert.instance(error, RpcError);
  assert.is(error.code, 'INTERNAL');
  assert.is(error.reason, 'invalid_response');
  assert.match(
    error.message,
    /shop\.Catalog\/GetItem: malformed response: field "reviews\[0\]\.stars" must be an integer/,
  );
});

test.run();
