using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace LlmGuard;

/// <summary>
/// The singleflight and cache key of a chat request: a SHA-256 over everything that can change the answer, written
/// field by field without reflection. Every field is tagged and length-prefixed, so two different requests never write
/// the same bytes; the hash keeps a long conversation from becoming a long key.
/// </summary>
/// <remarks>
/// What the client reads itself: each message's role, author and contents (text; data by media type, name and bytes;
/// URIs; hosted files and vector stores; function calls by id, name and arguments; function results by id and result;
/// errors), the options that shape the answer (model, instructions, sampling settings, seed, reasoning, response format,
/// stop sequences, tools, tool mode, conversation and continuation), the call context's tenant, user and conversation,
/// and the inner client's provider and default model. A function tool is written by type, name, description, schema
/// and additional properties; a hosted tool of Microsoft.Extensions.AI by every setting it has. Values it cannot read
/// (additional properties, argument and result values, content types it does not know) are written as JSON with the
/// configured type information; when one cannot be serialized, the options carry a
/// <see cref="ChatOptions.RawRepresentationFactory"/> (an opaque function), or a tool is of a type whose settings the key
/// cannot read (another tool type, a subclass of a hosted tool), the request has no key and runs unshared.
/// A message's <see cref="ChatMessage.RawRepresentation"/> is not read: it is the provider's form of the same message.
/// </remarks>
internal sealed class ChatRequestKey : IDisposable
{
    // Bump when the bytes written for a request change, so a cache entry written by an older layout is never read.
    public const string Layout = "2";

    private readonly JsonSerializerOptions _json;

    // The request's bytes, hashed once at the end: an incremental hash costs a native call per field, several times
    // the copy into this buffer.
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(1_024);
    private int _length;

    private ChatRequestKey(JsonSerializerOptions json)
    {
        _json = json;
    }

    /// <summary>Gets why the last request had no key; <see langword="null"/> when it had one.</summary>
    public string? Unkeyable { get; private set; }

    /// <summary>
    /// Computes the key of a request, or <see langword="null"/> with <paramref name="reason"/> when the request holds
    /// something that cannot be written exactly.
    /// </summary>
    /// <param name="client">What the inner client says about itself: its provider and default model, written first.</param>
    /// <param name="messages">The request's messages.</param>
    /// <param name="options">The request's options.</param>
    /// <param name="json">Type information for values the key cannot read itself.</param>
    /// <param name="reason">Why there is no key.</param>
    /// <returns>64 lowercase hex digits, or <see langword="null"/>.</returns>
    public static string? Compute(ChatClientMetadata? client, IReadOnlyList<ChatMessage> messages, ChatOptions? options, JsonSerializerOptions json, out string? reason)
    {
        using var key = new ChatRequestKey(json);
        key.String(client?.ProviderName);
        key.String(client?.ProviderUri?.OriginalString);
        key.String(client?.DefaultModelId);
        LlmCallContext? context = LlmCallContext.Current;
        key.String(context?.Tenant);
        key.String(context?.User);
        key.String(context?.Conversation);
        key.Messages(messages);
        key.Options(options);
        reason = key.Unkeyable;
        if (reason is not null)
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(key._buffer.AsSpan(0, key._length), hash);
        return Convert.ToHexString(hash).ToLowerInvariant();
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private void Messages(IReadOnlyList<ChatMessage> messages)
    {
        Count(messages.Count);
        foreach (ChatMessage message in messages)
        {
            String(message.Role.Value);
            String(message.AuthorName);
            Count(message.Contents.Count);
            foreach (AIContent content in message.Contents)
            {
                Content(content);
            }

            Properties(message.AdditionalProperties);
        }
    }

    private void Content(AIContent content)
    {
        switch (content)
        {
            case TextContent text:
                Tag('T');
                String(text.Text);
                break;
            case TextReasoningContent reasoning:
                Tag('R');
                String(reasoning.Text);
                String(reasoning.ProtectedData);
                break;
            case DataContent data:
                Tag('D');
                String(data.MediaType);
                String(data.Name);
                Bytes(data.Data.Span);
                break;
            case UriContent uri:
                Tag('U');
                String(uri.Uri.OriginalString);
                String(uri.MediaType);
                break;
            case HostedFileContent file:
                Tag('H');
                String(file.FileId);
                break;
            case HostedVectorStoreContent store:
                Tag('V');
                String(store.VectorStoreId);
                break;
            case FunctionCallContent call:
                Tag('C');
                String(call.CallId);
                String(call.Name);
                Arguments(call.Arguments);
                break;
            case FunctionResultContent result:
                Tag('F');
                String(result.CallId);
                Json(result.Result, typeof(object));
                break;
            case ErrorContent error:
                Tag('E');
                String(error.Message);
                String(error.ErrorCode);
                String(error.Details);
                break;
            default:
                // Another content type: its JSON through the polymorphic AIContent contract, which names its type; a type
                // the settings do not know makes the request unkeyable rather than keyed by part of what it holds.
                Tag('J');
                String(content.GetType().FullName);
                Json(content, typeof(AIContent));
                return;
        }

        Properties(content.AdditionalProperties);
    }

    private void Options(ChatOptions? options)
    {
        if (options is null)
        {
            Tag('0');
            return;
        }

        Tag('O');
        if (options.RawRepresentationFactory is not null)
        {
            // An opaque function that builds the provider's own request: nothing it sets can be read into a key.
            Unkeyable ??= "its options carry a RawRepresentationFactory";
        }

        String(options.ModelId);
        String(options.Instructions);
        String(options.ConversationId);
        Number(options.Temperature);
        Number(options.TopP);
        Number(options.TopK);
        Number(options.MaxOutputTokens);
        Number(options.FrequencyPenalty);
        Number(options.PresencePenalty);
        Number(options.Seed);
        Flag(options.AllowMultipleToolCalls);
        Flag(options.AllowBackgroundResponses);
        if (options.Reasoning is { } reasoning)
        {
            Tag('R');
            Number(reasoning.Effort is { } effort ? (int)effort : null);
            Number(reasoning.Output is { } output ? (int)output : null);
        }
        else
        {
            Tag('0');
        }

        switch (options.ResponseFormat)
        {
            case null:
                Tag('0');
                break;
            case ChatResponseFormatText:
                Tag('t');
                break;
            case ChatResponseFormatJson json:
                Tag('j');
                String(json.Schema?.GetRawText());
                String(json.SchemaName);
                String(json.SchemaDescription);
                break;
            default:
                Tag('J');
                String(options.ResponseFormat.GetType().FullName);
                Json(options.ResponseFormat, typeof(ChatResponseFormat));
                break;
        }

        Strings(options.StopSequences);
        switch (options.ToolMode)
        {
            case null:
                Tag('0');
                break;
            case RequiredChatToolMode required:
                Tag('r');
                String(required.RequiredFunctionName);
                break;
            default:
                Tag('m');
                String(options.ToolMode.GetType().FullName);
                break;
        }

        Tools(options.Tools);
        if (options.ContinuationToken is { } continuation)
        {
            Tag('c');
            Bytes(continuation.ToBytes().Span);
        }
        else
        {
            Tag('0');
        }

        Properties(options.AdditionalProperties);
    }

    private void Tools(IList<AITool>? tools)
    {
        if (tools is null)
        {
            Tag('0');
            return;
        }

        Count(tools.Count);
        foreach (AITool tool in tools)
        {
            // A function's code runs above this client: the model sees its name, description and schema. A hosted tool
            // runs at the provider with its settings (which vector stores, which MCP server with which headers), so every
            // one of them changes the answer and who may see it.
            String(tool.GetType().FullName);
            String(tool.Name);
            String(tool.Description);
            Properties(tool.AdditionalProperties);
            HostedTool(tool);
        }
    }

    // Each type is matched exactly: a subclass may carry settings of its own that this layout does not write, and
    // keying it by the ones it shares with its base would let two requests with different settings share an answer.
    private void HostedTool(AITool tool)
    {
        Type type = tool.GetType();
        if (tool is AIFunctionDeclaration function)
        {
            String(function.JsonSchema.GetRawText());
        }
        else if (type == typeof(HostedFileSearchTool))
        {
            var fileSearch = (HostedFileSearchTool)tool;
            Contents(fileSearch.Inputs);
            Number(fileSearch.MaximumResultCount);
        }
        else if (type == typeof(HostedCodeInterpreterTool))
        {
            Contents(((HostedCodeInterpreterTool)tool).Inputs);
        }
        else if (type == typeof(HostedMcpServerTool))
        {
            var mcp = (HostedMcpServerTool)tool;
            String(mcp.ServerName);
            String(mcp.ServerAddress);
            String(mcp.ServerDescription);
            Strings(mcp.AllowedTools);
            ApprovalMode(mcp.ApprovalMode);
            Headers(mcp.Headers);
        }
        else if (type == typeof(HostedImageGenerationTool))
        {
            ImageOptions(((HostedImageGenerationTool)tool).Options);
        }
        else if (type != typeof(HostedWebSearchTool))
        {
            // HostedWebSearchTool's settings are its additional properties, written above. Any other type, the
            // experimental HostedToolSearchTool included, has settings this layout does not know.
            Unkeyable ??= $"it holds a {type.Name} tool whose settings the key cannot read";
        }
    }

    private void Contents(IList<AIContent>? contents)
    {
        if (contents is null)
        {
            Tag('0');
            return;
        }

        Count(contents.Count);
        foreach (AIContent content in contents)
        {
            Content(content);
        }
    }

    private void ApprovalMode(HostedMcpServerToolApprovalMode? mode)
    {
        switch (mode)
        {
            case null:
                Tag('0');
                break;
            case HostedMcpServerToolAlwaysRequireApprovalMode:
                Tag('a');
                break;
            case HostedMcpServerToolNeverRequireApprovalMode:
                Tag('n');
                break;
            case HostedMcpServerToolRequireSpecificApprovalMode specific:
                Tag('s');
                Strings(specific.AlwaysRequireApprovalToolNames);
                Strings(specific.NeverRequireApprovalToolNames);
                break;
            default:
                Unkeyable ??= $"it holds an MCP approval mode {mode.GetType().Name} the key cannot read";
                break;
        }
    }

    private void Headers(IDictionary<string, string>? headers)
    {
        if (headers is null)
        {
            Tag('0');
            return;
        }

        var sorted = new List<KeyValuePair<string, string>>(headers);
        sorted.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        Count(sorted.Count);
        foreach (KeyValuePair<string, string> header in sorted)
        {
            String(header.Key);
            String(header.Value);
        }
    }

    private void ImageOptions(ImageGenerationOptions? options)
    {
        if (options is null)
        {
            Tag('0');
            return;
        }

        if (options.GetType() != typeof(ImageGenerationOptions))
        {
            Unkeyable ??= $"it holds image generation options of type {options.GetType().Name} the key cannot read";
            return;
        }

        if (options.RawRepresentationFactory is not null)
        {
            Unkeyable ??= "its image generation tool's options carry a RawRepresentationFactory";
        }

        Tag('I');
        Number(options.Count);
        Number(options.ImageSize?.Width);
        Number(options.ImageSize?.Height);
        String(options.MediaType);
        String(options.ModelId);
        Number(options.ResponseFormat is { } format ? (int)format : null);
        Number(options.StreamingCount);
        Properties(options.AdditionalProperties);
    }

    private void Arguments(IDictionary<string, object?>? arguments)
    {
        if (arguments is null)
        {
            Tag('0');
            return;
        }

        Count(arguments.Count);
        foreach (KeyValuePair<string, object?> argument in Sorted(arguments))
        {
            String(argument.Key);
            Json(argument.Value, typeof(object));
        }
    }

    private void Properties(IReadOnlyDictionary<string, object?>? properties)
    {
        if (properties is null || properties.Count == 0)
        {
            Tag('0');
            return;
        }

        Count(properties.Count);
        foreach (KeyValuePair<string, object?> property in Sorted(properties))
        {
            String(property.Key);
            Json(property.Value, typeof(object));
        }
    }

    // Keyed in ordinal order, so two dictionaries with the same entries added in another order share a key.
    private static List<KeyValuePair<string, object?>> Sorted(IEnumerable<KeyValuePair<string, object?>> entries)
    {
        var sorted = new List<KeyValuePair<string, object?>>(entries);
        sorted.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return sorted;
    }

    private void Json(object? value, Type declared)
    {
        if (value is null)
        {
            Tag('0');
            return;
        }

        if (Unkeyable is not null)
        {
            return;
        }

        try
        {
            JsonTypeInfo info = _json.GetTypeInfo(declared);
            Tag('j');
            Bytes(JsonSerializer.SerializeToUtf8Bytes(value, info));
        }
        catch (Exception exception) when (exception is NotSupportedException or InvalidOperationException or JsonException or ArgumentException)
        {
            Unkeyable = $"it holds a {value.GetType().Name} its JSON settings cannot serialize";
        }
    }

    private void Strings(IList<string>? values)
    {
        if (values is null)
        {
            Tag('0');
            return;
        }

        Count(values.Count);
        foreach (string value in values)
        {
            String(value);
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > _buffer.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + bytes.Length));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void Tag(char tag)
    {
        Span<byte> bytes = [(byte)tag];
        Append(bytes);
    }

    private void String(string? value)
    {
        if (value is null)
        {
            Tag('0');
            return;
        }

        Tag('s');
        Int(value.Length);

        // The UTF-16 code units as they are: an encoding would map every lone surrogate to U+FFFD.
        Append(MemoryMarshal.AsBytes(value.AsSpan()));
    }

    private void Bytes(ReadOnlySpan<byte> value)
    {
        Tag('b');
        Int(value.Length);
        Append(value);
    }

    private void Count(int count)
    {
        Tag('n');
        Int(count);
    }

    private void Int(int value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        Append(bytes);
    }

    private void Number(long? value)
    {
        if (value is not { } number)
        {
            Tag('0');
            return;
        }

        Tag('l');
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, number);
        Append(bytes);
    }

    private void Number(float? value)
    {
        if (value is not { } number)
        {
            Tag('0');
            return;
        }

        Tag('f');
        Span<byte> bytes = stackalloc byte[sizeof(float)];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, number);
        Append(bytes);
    }

    private void Flag(bool? value) => Tag(value switch { null => '0', true => '1', false => '2' });
}
