/**
 * Type tests, checked by `tsc --noEmit` (npm run typecheck, CI): what a client and a handler send
 * is a partial message (every field optional, nested messages too); what a handler receives and
 * a client gets back is whole. Every `@ts-expect-error` line must be an error, or tsc fails.
 * Never run: the calls are inside a function nobody calls.
 */
import { createClient, defineService, method, type MessageInit } from 'corpc';
import { Catalog, Color, type CatalogHandlers, type Item, type Order } from './fixtures/codegen/generated/shop.ts';

export async function typeTests(): Promise<void> {
  const catalog = createClient(Catalog, '127.0.0.1:1');

  // Partial requests are accepted, at any depth, in lists and map values too.
  await catalog.getItem({});
  await catalog.placeOrder({ id: 1 });
  await catalog.placeOrder({ items: [{ id: 'a', price: { units: 5 } }], reviewsByLine: { 7: { author: 'ann' } } });
  // Wrong types are still rejected.
  // @ts-expect-error id is a string
  await catalog.getItem({ id: 5 });
  // @ts-expect-error units is a number
  await catalog.placeOrder({ items: [{ price: { units: 'five' } }] });
  // @ts-expect-error colors holds enum values
  await catalog.listItems({ colors: ['RED'] });
  // @ts-expect-error an unknown field in a literal
  await catalog.getItem({ idd: 'x' });
  // @ts-expect-error a map value of a message type
  await catalog.placeOrder({ reviewsByLine: { 1: { stars: 'many' } } });

  // What comes back is whole: every field present, typed exactly.
  const item = await catalog.getItem({ id: 'x' });
  const units: number = item.price.units;
  const tags: string[] = item.tags;
  const firstAuthor: string | undefined = item.reviews[0]?.author;
  void [units, tags, firstAuthor];
  // @ts-expect-error a string field is not optional on what the client gets
  const maybe: undefined extends typeof item.name ? true : never = true;
  void maybe;

  const handlers: CatalogHandlers = {
    // A handler receives the whole request…
    getItem: (request) => ({ id: request.id.toUpperCase() }),
    // …and may return a partial answer, nested messages too.
    listItems: (request) => ({ items: request.colors.map((color) => ({ color, price: { currency: 'EUR' } })) }),
    placeOrder: async (order: Order) => ({ orderId: order.id }),
  };
  const wrong: CatalogHandlers = {
    ...handlers,
    // @ts-expect-error a handler's answer is still type-checked
    getItem: () => ({ id: 7 }),
  };
  void wrong;

  // MessageInit by hand: optional at every depth, arrays and maps kept.
  const init: MessageInit<Item> = { price: {}, reviews: [{}], stockByStore: { north: 1 }, color: Color.RED };
  // @ts-expect-error stockByStore values are numbers
  const badInit: MessageInit<Item> = { stockByStore: { north: 'one' } };
  void [init, badInit];

  // Hand-written descriptors send what they receive: without a decoder, nothing fills in a left-out field.
  const Greeter = defineService('Greeter', { greet: method<{ name: string; loud: boolean }, { message: string }>() });
  const greeter = createClient(Greeter, '127.0.0.1:1');
  await greeter.greet({ name: 'a', loud: true });
  // @ts-expect-error loud is required for a hand-written method
  await greeter.greet({ name: 'a' });
  // …unless they opt in, with decoders that fill the defaults.
  type Greet = { name: string; loud: boolean };
  const Lenient = defineService('Lenient', {
    greet: method<Greet, { message: string }, MessageInit<Greet>>({
      decodeRequest: (value) => ({ name: '', loud: false, ...(value as object) }),
    }),
  });
  await createClient(Lenient, '127.0.0.1:1').greet({ name: 'a' });
}
