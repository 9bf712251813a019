package org.influence4j.cli;

import java.nio.file.Path;
import java.util.List;
import org.influence4j.calculators.attribution.TopKOrder;
import picocli.CommandLine.Option;

/**
 * The top-k options shared by {@code top-k} and {@code tracin --what top-k}: {@code -k} and which
 * end of the ranking ({@code --order proponents|opponents|both}); the result is written by
 * {@link Output#writeTopK}.
 */
final class TopKOptions {

    /** Which ends of each test point's ranking are written. */
    enum Order { proponents, opponents, both }

    @Option(names = "-k", defaultValue = "5", description = "Training points per test point and kind, 1 <= k <= n (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--order", defaultValue = "both", description = "proponents (largest scores), opponents (most negative) or both (default: ${DEFAULT-VALUE}).")
    Order order;

    /** @return the selections to compute, proponents first */
    List<TopKOrder> orders() {
        return switch (order) {
            case proponents -> List.of(TopKOrder.PROPONENTS);
            case opponents -> List.of(TopKOrder.OPPONENTS);
            case both -> List.of(TopKOrder.PROPONENTS, TopKOrder.OPPONENTS);
        };
    }

    /** @return "proponents", "opponents" or "proponents and opponents" */
    String describe() {
        return order == Order.both ? "proponents and opponents" : order.name();
    }

    /**
     * Checks what can be checked before the data is read.
     *
     * @throws IllegalArgumentException naming {@code -k} if k ≤ 0, or {@code --output} if it is not CSV
     */
    void check(Path output) {
        if (k < 1) {
            throw new IllegalArgumentException("-k: must be >= 1, got " + k);
        }
        Output.requireCsv(output);
    }

    /** @throws IllegalArgumentException naming {@code -k} if it exceeds the n training points */
    void requireAtMost(int n) {
        if (k > n) {
            throw new IllegalArgumentException("-k: must be <= the " + n + " training points, got " + k);
        }
    }
}
