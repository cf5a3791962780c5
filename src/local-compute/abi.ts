// Status codes and small enums of the Compute ABI, in the order of `typenames.witx` (the
// `fastly_status` enum is a u32 tag, so the position is the value).
export const Status = {
  ok: 0,
  error: 1,
  inval: 2,
  badf: 3,
  buflen: 4,
  unsupported: 5,
  badalign: 6,
  httpinvalid: 7,
  httpuser: 8,
  httpincomplete: 9,
  none: 10,
  httpheadtoolarge: 11,
  httpinvalidstatus: 12,
  limitexceeded: 13,
  again: 14,
} as const;

/** `send_error_detail_tag`: only the values this host reports. */
export const SendErrorTag = {
  ok: 1,
  destinationNotFound: 4,
  connectionRefused: 7,
  httpResponseTimeout: 17,
} as const;

/** `http_version`: http_09, http_10, http_11, h2, h3. */
export const HTTP_11 = 2;

/** `multi_value_cursor_result` for "no more values". */
export const CURSOR_DONE = -1n;

/** What `async_io.select` writes when its timeout passes with nothing ready (u32::MAX). */
export const SELECT_TIMED_OUT = 0xffff_ffff;
