package org.influence4j.calculators.attribution;

/**
 * Which end of the score ranking a top-k query returns (Captum's {@code proponents} flag,
 * influenciae's {@code ORDER}).
 */
public enum TopKOrder {
    /** The k largest scores, largest first (Captum {@code proponents=True}, influenciae {@code DESCENDING}). */
    PROPONENTS,
    /** The k smallest (most negative) scores, smallest first (Captum {@code proponents=False}, influenciae {@code ASCENDING}). */
    OPPONENTS;

    /**
     * Whether {@code (scoreA, indexA)} ranks before {@code (scoreB, indexB)} in this order: by
     * score (descending for proponents, ascending for opponents), ties broken by the smaller index.
     * NaN scores rank after every number.
     */
    public boolean ranksBefore(double scoreA, long indexA, double scoreB, long indexB) {
        boolean nanA = Double.isNaN(scoreA);
        boolean nanB = Double.isNaN(scoreB);
        if (nanA || nanB) {
            if (nanA && nanB) {
                return indexA < indexB;
            }
            return nanB;
        }
        if (scoreA != scoreB) {
            return this == PROPONENTS ? scoreA > scoreB : scoreA < scoreB;
        }
        return indexA < indexB;
    }
}
