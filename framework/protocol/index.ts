export * from './frames.ts';
export * from './decoder.ts';
export * from './writer.ts';
export * from './request-header.ts';
