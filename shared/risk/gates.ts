/**
 * The checks that refuse a new entry outright, before any sizing: settings
 * (asset classes, symbol lists, hours), the account's state (daily loss,
 * balance) and the counters (orders today, positions per symbol, open positions).
 */
import { dailyLossStatus } from "./daily-loss";
import { accountLabel, money } from "./format";
import { underlyingSymbol } from "./instruments";
import { SKIP_REASONS, skip } from "./skip-reasons";
import type { DecideInput, PositionDirection, Reserved, RiskAccount, SkipDecision } from "./types";

export function entryGate(
  input: DecideInput,
  account: RiskAccount,
  reserved: Reserved,
  direction: PositionDirection,
  opensNewPosition: boolean,
): SkipDecision | null {
  return (
    settingsGate(input, account, direction) ??
    accountGate(input, account) ??
    countersGate(input, account, reserved, opensNewPosition)
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
    return skip("outside_regular_hours", SKIP_REASONS.outside_regular_hours, { assetClass: signal.assetClass });
  }
  return null;
}

function accountGate(input: DecideInput, account: RiskAccount): SkipDecision | null {
  const { limits } = input;
  const { snapshot } = account;
  const loss = dailyLossStatus(snapshot, limits, input.now);
  if (loss.state !== "ok" && loss.pausedUntil !== undefined) {
    const details = {
      lossPercent: loss.lossPercent,
      drawdownPercent: loss.drawdownPercent,
      pausedUntil: loss.pausedUntil,
    };
    const pause = "positions are closed and trading pauses until 00:00 UTC.";
    if (loss.state === "circuit_breaker") {
      return skip(
        "circuit_breaker",
        `Your equity fell ${loss.drawdownPercent}% from today's high (circuit breaker ${limits.circuitBreakerPercent}%): ${pause}`,
        { ...details, limitPercent: limits.circuitBreakerPercent },
        loss.pausedUntil,
      );
    }
    return skip(
      "daily_loss_limit",
      `You are down ${loss.lossPercent}% today (limit ${limits.dailyLossLimitPercent}%): ${pause}`,
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
  opensNewPosition: boolean,
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
  if (held + inFlight >= limits.maxPositionsPerSymbol) {
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
