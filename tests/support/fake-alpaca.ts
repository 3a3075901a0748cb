/**
 * A fake Alpaca Trading API v2 at the HTTP boundary: it parses the requests
 * the real adapter sends and answers with Alpaca's JSON shapes (order objects
 * with string decimals, error bodies `{code, message}`). Faults can be
 * scripted per call or drawn at random, and every order it accepted is
 * counted by client order id, so a test can prove nothing was placed twice.
 * Trailing stops carry `trail_percent` or `trail_price`, with `hwm` and the
 * `stop_price` it gives, which `trade` moves as the market does.
 */

export type Fault = "5xx" | "timeout_after_accept" | "429" | "insufficient_funds";

export interface FakeAlpacaOptions {
  /** Faults for the next order placements, in order (then none). */
  script?: Fault[];
  /** Random faults for every call: probabilities of each fault. */
  random?: { "5xx"?: number; timeout_after_accept?: number; "429"?: number };
  /** How long a "timeout" waits (longer than the adapter's timeout). */
  hangMs?: number;
  retryAfterSeconds?: number;
  /** Fill price for market orders. */
  price?: number;
  rng?: () => number;
}

interface AlpacaOrder {
  id: string;
  client_order_id: string;
  created_at: string;
  updated_at: string;
  submitted_at: string;
  filled_at: string | null;
  canceled_at: string | null;
  asset_class: string;
  symbol: string;
  qty: string;
  filled_qty: string;
  filled_avg_price: string | null;
  order_class: string;
  order_type: string;
  type: string;
  side: string;
  time_in_force: string;
  limit_price: string | null;
  stop_price: string | null;
  trail_percent: string | null;
  trail_price: string | null;
  hwm: string | null;
  status: string;
  extended_hours: boolean;
  legs: null;
}

export class FakeAlpaca {
  readonly orders = new Map<string, AlpacaOrder>();
  /** How many times each client order id was accepted as a new order (must never exceed 1). */
  readonly placements = new Map<string, number>();
  /** Every placement request received (POST /v2/orders), accepted or not. */
  placementRequests = 0;
  /** The bodies of the orders it accepted, in order. */
  readonly placedBodies: Record<string, unknown>[] = [];
  readonly calls: { method: string; path: string }[] = [];
  /** Shares held per symbol (signed), as the fills left them. */
  readonly positions = new Map<string, { quantity: number; cost: number }>();
  private readonly script: Fault[];

  constructor(private readonly options: FakeAlpacaOptions = {}) {
    this.script = [...(options.script ?? [])];
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    this.calls.push({ method: request.method, path: url.pathname + url.search });
    const isPlacement = request.method === "POST" && url.pathname === "/v2/orders";
    if (isPlacement) this.placementRequests += 1;
    const fault = isPlacement ? (this.script.shift() ?? this.randomFault()) : this.randomFault();
    if (fault === "5xx") return Response.json({ code: 50010000, message: "internal server error" }, { status: 503 });
    if (fault === "429") {
      return Response.json(
        { code: 42910000, message: "rate limit exceeded" },
        { status: 429, headers: { "retry-after": String(this.options.retryAfterSeconds ?? 1) } },
      );
    }
    if (fault === "insufficient_funds" && isPlacement) {
      return Response.json({ code: 40310000, message: "insufficient buying power" }, { status: 403 });
    }
    const response = this.route(request.method, url, isPlacement ? await request.json() : null);
    if (fault === "timeout_after_accept") {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, this.options.hangMs ?? 2_000);
        init?.signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(init.signal?.reason ?? new DOMException("aborted", "AbortError"));
        });
      });
    }
    return response;
  };

  private randomFault(): Fault | null {
    const random = this.options.random;
    if (!random) return null;
    const roll = (this.options.rng ?? Math.random)();
    let edge = 0;
    for (const fault of ["5xx", "timeout_after_accept", "429"] as const) {
      edge += random[fault] ?? 0;
      if (roll < edge) return fault;
    }
    return null;
  }

  private route(method: string, url: URL, body: unknown): Response {
    if (method === "POST" && url.pathname === "/v2/orders") return this.place(body as Record<string, string>);
    if (method === "GET" && url.pathname === "/v2/orders:by_client_order_id") {
      const order = this.orders.get(url.searchParams.get("client_order_id") ?? "");
      return order ? Response.json(order) : notFound();
    }
    const byId = url.pathname.match(/^\/v2\/orders\/([^/]+)$/);
    if (byId) {
      const order = [...this.orders.values()].find((o) => o.id === decodeURIComponent(byId[1] ?? ""));
      if (!order) return notFound();
      if (method === "DELETE") {
        if (order.status !== "filled" && order.status !== "canceled") {
          Object.assign(order, { status: "canceled", canceled_at: now(), updated_at: now() });
        }
        return new Response(null, { status: 204 });
      }
      return Response.json(order);
    }
    if (method === "GET" && url.pathname === "/v2/orders") {
      return Response.json([...this.orders.values()].filter((o) => !["filled", "canceled"].includes(o.status)));
    }
    if (method === "GET" && url.pathname === "/v2/positions") {
      return Response.json(
        [...this.positions].flatMap(([symbol, held]) =>
          held.quantity === 0
            ? []
            : [
                {
                  symbol,
                  asset_class: "us_equity",
                  qty: String(held.quantity),
                  side: held.quantity < 0 ? "short" : "long",
                  avg_entry_price: String(Math.abs(held.cost / held.quantity)),
                },
              ],
        ),
      );
    }
    if (method === "GET" && url.pathname === "/v2/account") {
      return Response.json({ equity: "100000", cash: "100000", buying_power: "200000", currency: "USD" });
    }
    return notFound();
  }

  private place(body: Record<string, string>): Response {
    const clientOrderId = body.client_order_id ?? "";
    if (this.orders.has(clientOrderId)) {
      return Response.json({ code: 40010001, message: "client_order_id must be unique" }, { status: 422 });
    }
    this.placements.set(clientOrderId, (this.placements.get(clientOrderId) ?? 0) + 1);
    this.placedBodies.push(body);
    const at = now();
    const price = this.options.price ?? 100;
    const market = body.type === "market";
    const trailing = body.type === "trailing_stop";
    const order: AlpacaOrder = {
      id: crypto.randomUUID(),
      client_order_id: clientOrderId,
      created_at: at,
      updated_at: at,
      submitted_at: at,
      filled_at: market ? at : null,
      canceled_at: null,
      asset_class: "us_equity",
      symbol: body.symbol ?? "",
      qty: String(body.qty ?? "0"),
      filled_qty: market ? String(body.qty ?? "0") : "0",
      filled_avg_price: market ? String(price) : null,
      order_class: body.order_class ?? "",
      order_type: body.type ?? "market",
      type: body.type ?? "market",
      side: body.side ?? "buy",
      time_in_force: body.time_in_force ?? "day",
      limit_price: body.limit_price ?? null,
      stop_price: body.stop_price ?? null,
      trail_percent: body.trail_percent ?? null,
      trail_price: body.trail_price ?? null,
      hwm: null,
      status: market ? "filled" : "new",
      extended_hours: false,
      legs: null,
    };
    if (trailing) follow(order, price);
    this.orders.set(clientOrderId, order);
    if (market) this.move(order.symbol, order.side, Number(order.qty), price);
    return Response.json(order);
  }

  /** The market trades `symbol` at `price`: each working trailing stop's `hwm` and `stop_price` follow it. */
  trade(symbol: string, price: number): void {
    for (const order of this.orders.values()) {
      if (order.symbol === symbol && order.type === "trailing_stop" && order.status === "new") follow(order, price);
    }
  }

  private move(symbol: string, side: string, quantity: number, price: number): void {
    const held = this.positions.get(symbol) ?? { quantity: 0, cost: 0 };
    const signed = side === "buy" ? quantity : -quantity;
    this.positions.set(symbol, { quantity: held.quantity + signed, cost: held.cost + signed * price });
  }

  /**
   * Moves a working order to partially filled or filled, as the exchange would.
   * Like Alpaca, the order reports only its cumulative quantity and average price.
   */
  fill(clientOrderId: string, quantity: number, price: number): void {
    const order = this.orders.get(clientOrderId);
    if (!order) throw new Error(`no order ${clientOrderId}`);
    const before = Number(order.filled_qty);
    const filled = before + quantity;
    this.move(order.symbol, order.side, quantity, price);
    const average = (before * Number(order.filled_avg_price ?? 0) + quantity * price) / filled;
    Object.assign(order, {
      filled_qty: String(filled),
      filled_avg_price: String(Math.round(average * 1e6) / 1e6),
      status: filled >= Number(order.qty) ? "filled" : "partially_filled",
      updated_at: now(),
      filled_at: filled >= Number(order.qty) ? now() : null,
    });
  }
}

/** A trailing stop's high water mark (a buy's low) moved to `price` when better, and its `stop_price` with it. */
function follow(order: AlpacaOrder, price: number): void {
  const selling = order.side === "sell";
  const before = order.hwm === null ? price : Number(order.hwm);
  const best = selling ? Math.max(before, price) : Math.min(before, price);
  const distance =
    order.trail_percent !== null ? (best * Number(order.trail_percent)) / 100 : Number(order.trail_price);
  Object.assign(order, {
    hwm: String(best),
    stop_price: String(Math.round((selling ? best - distance : best + distance) * 1e4) / 1e4),
    updated_at: now(),
  });
}

const now = () => new Date().toISOString();
const notFound = () => Response.json({ code: 40410000, message: "order not found" }, { status: 404 });
