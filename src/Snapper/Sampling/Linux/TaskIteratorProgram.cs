using static Snapper.Sampling.Linux.BpfAssembler;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Builds the BPF task iterator program (see <see cref="TaskIterator"/>): it writes one <see cref="TaskRecord"/> per
/// thread of the process into the iterator's file, and one empty record at the end.
/// </summary>
static class TaskIteratorProgram
{
    const int HelperSeqWrite = 127;
    const int Record = -TaskRecord.Size; // the record is built on the program's stack, just below its frame pointer

    public static ulong[] Build(TaskRecordWriter writer)
    {
        var code = new BpfAssembler();
        code.Load(8, R6, R1, 0); // ctx->meta
        code.Load(8, R7, R1, 8); // ctx->task: NULL once, after the last thread
        for (var at = Record; at < 0; at += 8) code.StoreImmediate(8, FramePointer, at, 0);
        var atEnd = code.JumpIfEqual(R7, 0); // then write the empty record that ends the pass
        writer.Emit(code, R7, FramePointer, Record);
        code.JumpHere(atEnd);
        code.Load(8, R1, R6, 0); // meta->seq
        code.Move(R2, FramePointer);
        code.AddImmediate(R2, Record);
        code.MoveImmediate(R3, TaskRecord.Size);
        code.Call(HelperSeqWrite);
        code.MoveImmediate(R0, 0);
        code.Exit();
        return code.ToArray();
    }
}
