/**
 * The checks that refuse a new entry outright, before any sizing: settings
 * (asset classes, symbol lists, hours), the account's state (daily loss,
 * balance) and the counters (orders today, positions per symbol, open positions).
 */

import { REGULAR_SESSION } from "../market/new-york";
import { dailyLossStatus } from "./daily-loss";
import { accountLabel, money } from "./format";
import { underlyingSymbol } from "./instruments";
import { skip } from "./skip-reasons";
import type { DecideInput, PositionDirection, Reserved, RiskAccount, SkipDecision } from "./types";

/**
 * `opensNewPosition`: nothing is held in the instrument and direction (it counts against open positions).
 * `joinsPosition`: a same-direction add combined with the provider's entry of a moment ago, into a position
 * the member holds or has in flight: it is that one position, not another one in the symbol.
 */
export function entryGate(
  input: DecideInput,
  account: RiskAccount,
  reserved: Reserved,
  direction: PositionDirection,
  position: { opensNewPosition: boolean; joinsPosition: boolean },
): SkipDecision | null {
  return (
    settingsGate(input, account, direction) ??
    accountGate(input, account) ??
    countersGate(input, account, reserved, position)
  );
}

function settingsGate(input: DecideInput, account: RiskAccount, direction: PositionDirection): SkipDecision | null {
  const { signal, limits } = input;
  const symbol = underlyingSymbol(signal);
  if (!limits.allowedAssetClasses.includes(signal.assetClass)) {
    return skip(
      "asset_class_not_allowed",
      `Your risk settings allow ${limits.allowedAssetClasses.join(", ")}, not ${signal.assetClass}.`,
      { assetClass: signal.assetClass, allowed: limits.allowedAssetClasses },
    );
  }
  const names = new Set([symbol, signal.symbol.trim().toUpperCase()]);
  if (limits.symbolDenyList.some((denied) => names.has(denied))) {
    return skip("symbol_denied", `${symbol} is on your deny list.`, { symbol });
  }
  if (limits.symbolAllowList && !limits.symbolAllowList.some((allowed) => names.has(allowed))) {
    return skip("symbol_not_allowed", `${symbol} is not on your allow list.`, {
      symbol,
      allowList: limits.symbolAllowList,
    });
  }
  if (direction === "short" && !account.capabilities.shorting) {
    return skip("short_not_supported", `Your ${accountLabel(account)} cannot sell short.`, { broker: account.broker });
  }
  if (signal.assetClass !== "crypto" && limits.regularHoursOnly && !input.marketOpen) {
    const optIn = limits.allowExtendedHours
      ? "you may opt into extended hours with /risk hours."
      : "this community trades during regular hours only.";
    return skip(
      "outside_regular_hours",
      `The market is closed (regular hours are ${REGULAR_SESSION}). Orders are not held for the next open, so nothing was placed; ${optIn}`,
      { assetClass: signal.assetClass, allowExtendedHours: limits.allowExtendedHours },
    );
  }
  return null;
}

/**
 * The loss checks come first: a circuit breaker still armed trips even while the daily pause holds (the
 * flatten did not stop the loss), then a pause or lock the executor keeps skips without flattening again.
 */
function accountGate(input: DecideInput, account: RiskAccount): SkipDecision | null {
  const { limits } = input;
  const { snapshot } = account;
  const loss = dailyLossStatus(snapshot, limits, input.now);
  const details = { lossPercent: loss.lossPercent, pausedUntil: loss.pausedUntil };
  if (loss.state === "circuit_breaker" && loss.pausedUntil !== undefined && input.circuitBreakerArmed !== false) {
    return {
      ...skip(
        "circuit_breaker",
        `You are down ${loss.lossPercent}% today (circuit breaker ${limits.circuitBreakerPercent}%): your positions are closed and your account is locked until you unlock it with /risk unlock or an admin does; the community's admins are told. Trading resumes at 00:00 UTC at the earliest.`,
        { ...details, limitPercent: limits.circuitBreakerPercent },
        loss.pausedUntil,
      ),
      lockAccount: true,
    };
  }
  if (input.hold) return skip(input.hold.reason, input.hold.message, { ...details });
  if (loss.state !== "ok" && loss.pausedUntil !== undefined) {
    return skip(
      "daily_loss_limit",
      `You are down ${loss.lossPercent}% today (limit ${limits.dailyLossLimitPercent}%): positions are closed and trading pauses until 00:00 UTC.`,
      { ...details, limitPercent: limits.dailyLossLimitPercent },
      loss.pausedUntil,
    );
  }
  if (snapshot.equity < limits.minAccountBalance) {
    return skip(
      "min_balance",
      `Your balance ${money(snapshot.equity)} is below the minimum ${money(limits.minAccountBalance)}.`,
      { equity: snapshot.equity, minimum: limits.minAccountBalance },
    );
  }
  return null;
}

function countersGate(
  input: DecideInput,
  account: RiskAccount,
  reserved: Reserved,
  { opensNewPosition, joinsPosition }: { opensNewPosition: boolean; joinsPosition: boolean },
): SkipDecision | null {
  const { limits } = input;
  const { snapshot } = account;
  const symbol = underlyingSymbol(input.signal);
  const ordersToday = snapshot.ordersToday + reserved.ordersToday;
  if (ordersToday >= limits.maxOrdersPerDay) {
    return skip("max_orders_per_day", `You placed ${ordersToday} of your ${limits.maxOrdersPerDay} orders for today.`, {
      ordersToday: snapshot.ordersToday,
      inFlight: reserved.ordersToday,
      max: limits.maxOrdersPerDay,
    });
  }
  const held = snapshot.positions.filter((position) => underlyingSymbol(position) === symbol).length;
  const inFlight = reserved.symbols.filter((reservedSymbol) => reservedSymbol === symbol).length;
  if (!joinsPosition && held + inFlight >= limits.maxPositionsPerSymbol) {
    return skip(
      "max_positions_per_symbol",
      `You already have ${held + inFlight} position(s) in ${symbol} (max ${limits.maxPositionsPerSymbol}).`,
      { symbol, held, inFlight, max: limits.maxPositionsPerSymbol },
    );
  }
  const open = snapshot.positions.length + reserved.openPositions;
  if (opensNewPosition && open >= limits.maxOpenPositions) {
    return skip("max_open_positions", `You have ${open} open or pending positions (max ${limits.maxOpenPositions}).`, {
      open: snapshot.positions.length,
      inFlight: reserved.openPositions,
      max: limits.maxOpenPositions,
    });
  }
  return null;
}
