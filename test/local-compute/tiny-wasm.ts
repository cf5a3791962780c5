// A minimal wasm assembler for the host's tests: modules with `fastly_*` imports (all
// `(i32...) -> i32`), one page of memory, optional data, and a `_start` body in raw opcodes.
// Enough to make a guest trap, spin, send a response or call an unsupported hostcall, without a
// toolchain or the 13 MB bin/main.wasm.

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
};
const name = (s: string): number[] => {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
};
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

const I32 = 0x7f;

/** Opcodes used by the tests. */
export const op = {
  unreachable: [0x00],
  loopForever: [0x03, 0x40, 0x0c, 0x00, 0x0b], // loop br 0 end
  drop: [0x1a],
  end: [0x0b],
  i32: (n: number) => [0x41, ...sleb(n)],
  load: (addr: number) => [0x41, ...sleb(addr), 0x28, 0x02, 0x00], // i32.load align=4 offset=0
  call: (index: number) => [0x10, ...uleb(index)],
};

export interface TinyImport {
  module: string;
  name: string;
  params: number;
}

/** Builds a module whose `_start` runs `body` (opcodes, without the final `end`). */
export function tinyModule(options: {
  imports?: TinyImport[];
  data?: { offset: number; bytes: Uint8Array };
  body: number[];
}): Uint8Array {
  const imports = options.imports ?? [];
  // Type 0: () -> (); type 1 + k: (i32 x k) -> i32 for k params.
  const arities = [...new Set(imports.map((i) => i.params))];
  const types = [
    [0x60, 0, 0],
    ...arities.map((k) => [0x60, ...uleb(k), ...Array<number>(k).fill(I32), 1, I32]),
  ];
  const importEntries = imports.map((i) => [
    ...name(i.module),
    ...name(i.name),
    0x00,
    ...uleb(1 + arities.indexOf(i.params)),
  ]);
  const startIndex = imports.length;
  const code = [0x00, ...options.body, ...op.end]; // no locals
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(2, vec(importEntries)),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])), // one memory, min 1 page
    ...section(
      7,
      vec([
        [...name('memory'), 0x02, 0],
        [...name('_start'), 0x00, ...uleb(startIndex)],
      ]),
    ),
    ...section(10, vec([[...uleb(code.length), ...code]])),
    ...(options.data
      ? section(
          11,
          vec([
            [
              0x00,
              ...op.i32(options.data.offset),
              ...op.end,
              ...uleb(options.data.bytes.length),
              ...options.data.bytes,
            ],
          ]),
        )
      : []),
  ];
  return Uint8Array.from(bytes);
}

/** A guest that answers `status` with `text`; `before` runs first (its result is dropped). */
export function respondingModule(
  status: number,
  text: string,
  extra?: { imports: TinyImport[]; statusFromCall?: number[] },
): Uint8Array {
  const imports: TinyImport[] = [
    { module: 'fastly_http_resp', name: 'new', params: 1 },
    { module: 'fastly_http_body', name: 'new', params: 1 },
    { module: 'fastly_http_resp', name: 'status_set', params: 2 },
    { module: 'fastly_http_body', name: 'write', params: 5 },
    { module: 'fastly_http_resp', name: 'send_downstream', params: 3 },
    ...(extra?.imports ?? []),
  ];
  const data = new TextEncoder().encode(text);
  // Memory: [0] response handle, [4] body handle, [8] nwritten, [64..] the text.
  const statusExpr = extra?.statusFromCall
    ? [...op.i32(status), ...extra.statusFromCall, 0x6a] // status + hostcall result (i32.add)
    : op.i32(status);
  return tinyModule({
    imports,
    data: { offset: 64, bytes: data },
    body: [
      ...op.i32(0),
      ...op.call(0),
      ...op.drop,
      ...op.i32(4),
      ...op.call(1),
      ...op.drop,
      ...op.load(0),
      ...statusExpr,
      ...op.call(2),
      ...op.drop,
      ...op.load(4),
      ...op.i32(64),
      ...op.i32(data.length),
      ...op.i32(0),
      ...op.i32(8),
      ...op.call(3),
      ...op.drop,
      ...op.load(0),
      ...op.load(4),
      ...op.i32(0),
      ...op.call(4),
      ...op.drop,
    ],
  });
}
