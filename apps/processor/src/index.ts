/** What other workspace packages (end-to-end tests, benches) may use of the processor. */
export { parseProcessorConfig, type ProcessorConfig } from './env.js';
export { Processor, FETCH_LIMITS, type ProcessorDeps } from './runtime/processor.js';
export { WindowOperator, type WindowOperatorConfig, type OperatorSnapshot } from './operators/window-operator.js';
