using System.Reflection;
using System.Text;
using KexecSim.Program;

namespace KexecSim.Language.Syntax;

/// <summary>Renders a syntax tree as indented text with each node's span (line:col-line:col), for tests and debugging.</summary>
public static class SyntaxTreeDumper
{
    public static string Dump(SyntaxNode node, SourceText source)
    {
        var builder = new StringBuilder();
        Write(node, source, builder, 0, null);
        return builder.ToString();
    }

    private static void Write(SyntaxNode node, SourceText source, StringBuilder builder, int depth, string? label)
    {
        var (startLine, startColumn) = source.GetLineColumn(node.Span.Start);
        var (endLine, endColumn) = source.GetLineColumn(node.Span.End);
        builder.Append(' ', depth * 2);
        if (label is not null)
        {
            builder.Append(label).Append(": ");
        }
        builder.Append(node.GetType().Name).Append(' ')
            .Append($"{startLine}:{startColumn}-{endLine}:{endColumn}");
        foreach (var property in Properties(node.GetType()))
        {
            var value = property.GetValue(node);
            if (value is Token token)
            {
                builder.Append($" {property.Name}={Describe(token)}");
            }
            else if (value is bool or HandlerKind)
            {
                builder.Append($" {property.Name}={value}");
            }
        }
        builder.Append('\n');
        foreach (var property in Properties(node.GetType()))
        {
            switch (property.GetValue(node))
            {
                case SyntaxNode child:
                    Write(child, source, builder, depth + 1, property.Name);
                    break;
                case System.Collections.IEnumerable list and not string:
                    foreach (var item in list)
                    {
                        switch (item)
                        {
                            case SyntaxNode element:
                                Write(element, source, builder, depth + 1, property.Name);
                                break;
                            case Token token:
                                builder.Append(' ', (depth + 1) * 2).Append($"{property.Name}: {Describe(token)}\n");
                                break;
                            case ValueTuple<ExpressionSyntax, ExpressionSyntax> pair:
                                Write(pair.Item1, source, builder, depth + 1, property.Name + ".Leaf");
                                Write(pair.Item2, source, builder, depth + 1, property.Name + ".Value");
                                break;
                        }
                    }
                    break;
            }
        }
    }

    private static string Describe(Token token) => token.Kind switch
    {
        TokenKind.Integer => token.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        TokenKind.String => $"\"{token.Text}\"",
        _ => token.IsMissing ? $"<missing {token.Kind}>" : token.Text,
    };

    private static IEnumerable<PropertyInfo> Properties(Type type) => type
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.Name is not ("Span" or "Height" or "Source"))
        .OrderBy(p => p.MetadataToken);
}
