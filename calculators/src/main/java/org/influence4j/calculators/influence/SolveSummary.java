package org.influence4j.calculators.influence;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.influence4j.api.inversion.SolverInfo;

/**
 * The diagnostics of every solve of one fitted influence model, summarised for provenance records:
 * the number of solves and right-hand sides, the largest iteration count and relative residual, and
 * whether every solve converged, with the distinct warnings (at most {@value #MAX_WARNINGS}). Not
 * thread-safe.
 */
final class SolveSummary {

    static final int MAX_WARNINGS = 5;

    private long solves;
    private long rightHandSides;
    private int maxIterations;
    private double maxResidual;
    private boolean converged = true;
    private final Set<String> warnings = new LinkedHashSet<>();

    /** Adds the diagnostics of one solve. */
    void add(SolverInfo info) {
        solves++;
        rightHandSides += info.residuals().length;
        maxIterations = Math.max(maxIterations, info.iterations());
        maxResidual = Math.max(maxResidual, info.maxResidual());
        converged &= info.converged();
        for (String w : info.warnings()) {
            if (warnings.size() < MAX_WARNINGS) {
                warnings.add(w);
            }
        }
    }

    /** Forgets every solve (a refit starts a new summary). */
    void clear() {
        solves = 0;
        rightHandSides = 0;
        maxIterations = 0;
        maxResidual = 0;
        converged = true;
        warnings.clear();
    }

    /** @return {@code {"solves", "right_hand_sides", "max_iterations", "max_relative_residual", "converged", "warnings"}}; empty before the first solve */
    Map<String, Object> toJson() {
        if (solves == 0) {
            return Map.of();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("solves", solves);
        m.put("right_hand_sides", rightHandSides);
        m.put("max_iterations", (long) maxIterations);
        m.put("max_relative_residual", maxResidual);
        m.put("converged", converged);
        m.put("warnings", new ArrayList<Object>(List.copyOf(warnings)));
        return m;
    }
}
