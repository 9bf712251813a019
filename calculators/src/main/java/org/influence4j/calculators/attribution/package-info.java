/**
 * Training-data attribution with a common contract for every method of this project
 * (influence functions and the TracIn family): {@link org.influence4j.calculators.attribution.TrainingDataAttribution},
 * answered for every influence-function method (Direct, CG, LiSSA, Arnoldi, Nyström, EK-FAC) by the
 * one adapter {@link org.influence4j.calculators.attribution.InfluenceFunctionAttribution}, the top-k
 * result type {@link org.influence4j.calculators.attribution.TopK}, streaming top-k
 * selection, and deel-influenciae's {@link org.influence4j.calculators.attribution.FirstOrderInfluenceCalculator}
 * with RelatIF normalisation, group influence and caching of influence vectors.
 *
 * <p><b>Score sign, shared by all methods.</b> A score {@code s(test, train) > 0} marks a
 * <em>proponent</em>: the training point helped the prediction, i.e. removing it would raise the
 * test loss (influence functions) or training on it lowered the test loss (TracIn). A negative
 * score marks an <em>opponent</em>. Self-influence scores are ≥ 0 for every method (for influence
 * functions when H + λI is positive definite).
 */
package org.influence4j.calculators.attribution;
