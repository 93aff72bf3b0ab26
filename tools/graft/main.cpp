// graft: the command line.
//
//   graft inspect model.pth [--json] [--all]     what a weights file holds
//   graft convert model.pth model.safetensors    any readable weights file to safetensors
//   graft predict --model efficientnet_lite0 --weights lite0.pth cat.jpg   top-5 ImageNet classes
//   graft finetune --model efficientnet_lite0 --weights lite0.pth --data fashion-mnist --shots 100 ...
//   graft lr-find  --model efficientnet_lite0 --weights lite0.pth --data fashion-mnist --chart lr.png
//
// Errors (a missing file, a corrupt or hostile one) print "graft: <message>" on
// stderr and exit with status 1; usage errors exit with CLI11's status (105-109).
#include <cstdio>

#include "core/error.h"
#include "tools/graft/commands.h"

int main(int argc, char** argv) {
    CLI::App app{"graft: inspect and convert weights files (PyTorch .pth/.pt/.bin, safetensors, ONNX), classify images, fine-tune pretrained models", "graft"};
    app.require_subcommand(1);
    graft::cli::add_inspect(app);
    graft::cli::add_convert(app);
    graft::cli::add_predict(app);
    graft::cli::add_finetune(app);
    graft::cli::add_lr_find(app);
    if (argc < 2) {  // a bare `graft`: the usage, not just "a subcommand is required"
        std::fprintf(stderr, "%s", app.help().c_str());
        return 1;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const graft::Error& e) {
        std::fprintf(stderr, "graft: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "graft: %s\n", e.what());
        return 1;
    }
    return 0;
}
