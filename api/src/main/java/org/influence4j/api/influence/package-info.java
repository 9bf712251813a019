/**
 * Influence function models (pyDVL's {@code InfluenceFunctionModel}): fit to training data, then
 * compute influence factors H⁻¹∇θℓ and influences of training points on test points.
 */
package org.influence4j.api.influence;
