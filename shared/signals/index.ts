export { formatSignal } from "./format";
export { signalFromOptions } from "./options";
export { parseSignal } from "./parser";
export * from "./schema";
