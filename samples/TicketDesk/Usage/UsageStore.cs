using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Usage;
using Microsoft.Data.Sqlite;

namespace TicketDesk.Usage;

/// <summary>The <c>llm_usage</c> table in a SQLite file: one row per guarded execution, and the daily report over it.</summary>
public sealed class UsageStore
{
    // SQLite's own date-time text form, so date() in queries reads it; always UTC.
    private const string TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff";

    private const string CreateTable = """
        CREATE TABLE IF NOT EXISTS llm_usage (
            completed_at     TEXT    NOT NULL,
            tenant           TEXT,
            user_id          TEXT,
            conversation     TEXT,
            module           TEXT,
            scene            TEXT    NOT NULL,
            model            TEXT,
            input_tokens     INTEGER NOT NULL,
            output_tokens    INTEGER NOT NULL,
            cost             REAL,
            tokens_saved     INTEGER NOT NULL,
            callers_answered INTEGER NOT NULL,
            result           TEXT    NOT NULL,
            duration_ms      REAL    NOT NULL
        );
        CREATE INDEX IF NOT EXISTS llm_usage_by_day ON llm_usage (completed_at, tenant);
        """;

    private const string Insert = """
        INSERT INTO llm_usage (completed_at, tenant, user_id, conversation, module, scene, model, input_tokens,
                               output_tokens, cost, tokens_saved, callers_answered, result, duration_ms)
        VALUES ($completed_at, $tenant, $user_id, $conversation, $module, $scene, $model, $input_tokens,
                $output_tokens, $cost, $tokens_saved, $callers_answered, $result, $duration_ms);
        """;

    private const string DailyQuery = """
        SELECT date(completed_at)    AS day,
               tenant,
               COUNT(*)              AS executions,
               SUM(callers_answered) AS callers_answered,
               SUM(input_tokens)     AS input_tokens,
               SUM(output_tokens)    AS output_tokens,
               SUM(cost)             AS cost,
               SUM(tokens_saved)     AS tokens_saved
        FROM llm_usage
        GROUP BY day, tenant
        ORDER BY day, tenant;
        """;

    private readonly string _connectionString;
    private readonly Lazy<Task> _created;

    /// <summary>Creates a store over the SQLite file at <paramref name="databasePath"/>, created on first use.</summary>
    public UsageStore(string databasePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        DatabasePath = databasePath;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = databasePath }.ToString();
        _created = new Lazy<Task>(CreateTableAsync);
    }

    /// <summary>The SQLite file.</summary>
    public string DatabasePath { get; }

    /// <summary>Adds <paramref name="entries"/> in one transaction: all of them or, on a failure, none.</summary>
    public async Task InsertAsync(IReadOnlyList<LlmUsageRecord> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }

        await _created.Value;
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Insert;
        SqliteParameter completedAt = command.Parameters.Add("$completed_at", SqliteType.Text);
        SqliteParameter tenant = command.Parameters.Add("$tenant", SqliteType.Text);
        SqliteParameter user = command.Parameters.Add("$user_id", SqliteType.Text);
        SqliteParameter conversation = command.Parameters.Add("$conversation", SqliteType.Text);
        SqliteParameter module = command.Parameters.Add("$module", SqliteType.Text);
        SqliteParameter scene = command.Parameters.Add("$scene", SqliteType.Text);
        SqliteParameter model = command.Parameters.Add("$model", SqliteType.Text);
        SqliteParameter inputTokens = command.Parameters.Add("$input_tokens", SqliteType.Integer);
        SqliteParameter outputTokens = command.Parameters.Add("$output_tokens", SqliteType.Integer);
        SqliteParameter cost = command.Parameters.Add("$cost", SqliteType.Real);
        SqliteParameter tokensSaved = command.Parameters.Add("$tokens_saved", SqliteType.Integer);
        SqliteParameter callersAnswered = command.Parameters.Add("$callers_answered", SqliteType.Integer);
        SqliteParameter result = command.Parameters.Add("$result", SqliteType.Text);
        SqliteParameter durationMs = command.Parameters.Add("$duration_ms", SqliteType.Real);

        // One prepared statement for the whole batch: only the values change from row to row.
        command.Prepare();
        foreach (LlmUsageRecord entry in entries)
        {
            completedAt.Value = entry.CompletedAt.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);
            tenant.Value = (object?)entry.Tenant ?? DBNull.Value;
            user.Value = (object?)entry.User ?? DBNull.Value;
            conversation.Value = (object?)entry.Conversation ?? DBNull.Value;
            module.Value = (object?)entry.Module ?? DBNull.Value;
            scene.Value = entry.Scene;
            model.Value = (object?)entry.Model ?? DBNull.Value;
            inputTokens.Value = entry.InputTokens;
            outputTokens.Value = entry.OutputTokens;
            cost.Value = entry.Cost is { } c ? (double)c : DBNull.Value;
            tokensSaved.Value = entry.TokensSaved;
            callersAnswered.Value = entry.CallersAnswered;
            result.Value = entry.Result;
            durationMs.Value = entry.Duration.TotalMilliseconds;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Cost and tokens saved per tenant per day (UTC), earliest day first.</summary>
    public async Task<IReadOnlyList<DailyUsage>> GetDailyUsageAsync(CancellationToken cancellationToken)
    {
        await _created.Value;
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = DailyQuery;
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var days = new List<DailyUsage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            days.Add(new DailyUsage(
                Day: reader.GetString(0),
                Tenant: reader.IsDBNull(1) ? null : reader.GetString(1),
                Executions: reader.GetInt64(2),
                CallersAnswered: reader.GetInt64(3),
                InputTokens: reader.GetInt64(4),
                OutputTokens: reader.GetInt64(5),
                // Costs are stored as REAL; rounding to millionths removes the binary noise of the sum.
                Cost: reader.IsDBNull(6) ? null : Math.Round((decimal)reader.GetDouble(6), 6),
                TokensSaved: reader.GetInt64(7)));
        }

        return days;
    }

    private async Task CreateTableAsync()
    {
        await using SqliteConnection connection = await OpenAsync(CancellationToken.None);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = CreateTable;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
