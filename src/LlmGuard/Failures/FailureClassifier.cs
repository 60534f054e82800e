using System;

namespace LlmGuard.Failures;

/// <summary>
/// A team's own rule for failures LlmGuard does not know, set on <see cref="GuardRuntime.FailureClassifier"/>.
/// It is asked first about the exception that ended an attempt and then about each exception found inside it;
/// the first verdict other than <see cref="FailureClassification.Unknown"/> wins over the built-in rules.
/// </summary>
/// <param name="exception">The exception that ended an attempt, or one found inside it.</param>
/// <returns>The verdict, or <see cref="FailureClassification.Unknown"/> to let the built-in rules decide.</returns>
/// <remarks>It runs on every failed attempt, on the attempt's thread: keep it fast, and never throw from it.</remarks>
public delegate FailureClassification FailureClassifier(Exception exception);
