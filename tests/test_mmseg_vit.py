"""mmseg Segmenter / SETR ViTs: official key lists, strict loading with clear errors, the fused
q/k/v split behind the probes, agreement with torch.nn.MultiheadAttention, logits shapes."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch.nn import functional as F

from oodlib.data.manifests import load_manifest
from oodlib.models.mmseg_vit import (VARIANTS, EncoderLayer, MMSegViT, MMSegViTConfig, expected_keys, infer_config,
                                     load_mmseg_vit)

TINY = MMSegViTConfig(dim=32, depth=2, heads=2, patch=4, grid=(4, 4), n_classes=5, head="mask", head_depth=1,
                      head_dim=32, head_heads=2, channels=32)
TINY_HEADS = {
    "mask": TINY,
    "linear": replace(TINY, head="linear", head_depth=0, head_dim=0, head_heads=0),
    "setr_naive": replace(TINY, head="setr_naive", final_norm=False, head_depth=1, head_dim=0, head_heads=0,
                          channels=8),
}


def fabricate(keys: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors of exactly the listed shapes (BN variances positive, counters integer)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, shape in keys.items():
        if k.endswith("num_batches_tracked"):
            out[k] = torch.zeros(shape, dtype=torch.long)
        else:
            t = torch.randn(shape, generator=g) * 0.05
            out[k] = t.abs() + 0.5 if k.endswith(("running_var", "norm.weight", "ln1.weight", "ln2.weight")) else t
    return out


def save_mmseg(state: dict[str, torch.Tensor], path, wrap: bool = True):
    """mmseg's layout ``{"meta": ..., "state_dict": ...}`` in the legacy (non-zip) format its
    publish_model.py writes, or a plain state dict (``wrap=False``) in the zip format."""
    obj = {"meta": {"mmseg_version": "0.21.0", "CLASSES": ("a", "b")}, "state_dict": state} if wrap else state
    torch.save(obj, path, _use_new_zipfile_serialization=not wrap)
    return path


@pytest.mark.parametrize("head", sorted(TINY_HEADS))
def test_expected_keys_equal_the_module_state_dict(head):
    cfg = TINY_HEADS[head]
    own = {k: tuple(v.shape) for k, v in MMSegViT(cfg).state_dict().items()}
    assert own == expected_keys(cfg)
    assert infer_config({k: torch.empty(s) for k, s in own.items()}, head_dim=16) == cfg


def test_official_segmenter_vit_b16_checkpoint_loads_strictly(tmp_path):
    keys = expected_keys("segmenter_vit-b16_mask_ade20k")
    assert len(keys) == 2 + 2 + 12 * 12 + 2 + 2 * 12 + 11  # backbone 150, mask head 35 (incl. unused conv_seg)
    assert keys["backbone.patch_embed.projection.weight"] == (768, 3, 16, 16)
    assert keys["backbone.pos_embed"] == (1, 1025, 768) and keys["backbone.cls_token"] == (1, 1, 768)
    assert keys["backbone.layers.11.attn.attn.in_proj_weight"] == (2304, 768)
    assert keys["backbone.layers.11.ffn.layers.0.0.weight"] == (3072, 768) and "backbone.ln1.weight" in keys
    assert keys["decode_head.cls_emb"] == (1, 150, 768) and keys["decode_head.mask_norm.weight"] == (150,)
    assert keys["decode_head.conv_seg.weight"] == (150, 768, 1, 1) and "decode_head.layers.1.ln2.bias" in keys
    path = save_mmseg(fabricate(keys), tmp_path / "segmenter_vit-b_mask_8x1_512x512_160k_ade20k.pth")
    model = load_mmseg_vit(path)
    assert model.c == VARIANTS["segmenter_vit-b16_mask_ade20k"] and not model.training
    assert sum(p.numel() for p in model.parameters()) == sum(torch.Size(s).numel() for s in keys.values())
    with torch.no_grad():
        out = model.probe(torch.rand(1, 3, 64, 48))  # a 4x3 grid: the 32x32 position embedding is resized
    assert out["keys"].shape == (1, 768, 4, 3) and out["logits"].shape == (1, 150, 64, 48)
    assert torch.isfinite(out["logits"]).all()


def test_official_setr_vit_l16_key_list():
    keys = expected_keys("setr_vit-l16_naive_cityscapes")
    assert keys["backbone.pos_embed"] == (1, 1 + 48 * 48, 1024)
    assert keys["backbone.layers.23.attn.attn.in_proj_weight"] == (3072, 1024)
    assert "backbone.layers.24.ln1.weight" not in keys and "backbone.ln1.weight" not in keys  # no final norm
    assert keys["decode_head.norm.weight"] == (1024,)
    assert keys["decode_head.up_convs.0.0.conv.weight"] == (256, 1024, 1, 1)
    assert "decode_head.up_convs.1.0.bn.bias" not in keys  # the naive head: one 1x1 conv-BN-ReLU
    assert keys["decode_head.up_convs.0.0.bn.num_batches_tracked"] == ()
    assert keys["decode_head.conv_seg.weight"] == (19, 256, 1, 1)
    with torch.device("meta"):
        own = {k: tuple(v.shape) for k, v in MMSegViT(VARIANTS["setr_vit-l16_naive_cityscapes"]).state_dict().items()}
    assert own == keys
    meta = {k: torch.empty(s, device="meta") for k, s in keys.items()}
    meta["auxiliary_head.0.conv_seg.weight"] = torch.empty(19, 256, 1, 1, device="meta")
    inferred = infer_config({k: v for k, v in meta.items() if not k.startswith("aux")})
    assert inferred == VARIANTS["setr_vit-l16_naive_cityscapes"]
    assert expected_keys("setr_vit-l16_naive_ade20k")["backbone.pos_embed"] == (1, 1025, 1024)
    with pytest.raises(ValueError, match="unknown variant"):
        expected_keys("setr_vit-h")


@pytest.fixture
def tiny_state() -> dict[str, torch.Tensor]:
    return fabricate(expected_keys(TINY))


@pytest.mark.parametrize("wrap", [True, False])
def test_tiny_loads_from_mmseg_and_plain_formats_ignoring_auxiliary_heads(tmp_path, tiny_state, wrap):
    state = {**tiny_state, "auxiliary_head.0.conv_seg.weight": torch.zeros(5, 32, 1, 1)}
    model = load_mmseg_vit(save_mmseg(state, tmp_path / "tiny.pth", wrap), head_dim=16)
    assert model.c == TINY and torch.equal(model.backbone.pos_embed, tiny_state["backbone.pos_embed"])


@pytest.mark.parametrize("edit, match", [
    (lambda s: s.pop("backbone.layers.1.ln2.bias"), r"missing keys \['backbone.layers.1.ln2.bias'\]"),
    (lambda s: s.update({"backbone.extra": torch.zeros(1)}), r"unexpected keys \['backbone.extra'\]"),
    (lambda s: s.update({"backbone.layers.0.ffn.layers.1.bias": torch.zeros(33)}),
     r"backbone.layers.0.ffn.layers.1.bias: file \(33,\) vs expected \(32,\)"),
    # the head's width is read off cls_emb, so a wrong cls_emb shows as mismatches of the other head tensors
    (lambda s: s.update({"decode_head.cls_emb": torch.zeros(1, 5, 31)}),
     r"decode_head.layers.0.ln1.weight: file \(32,\) vs expected \(31,\)"),
])
def test_mismatches_raise_naming_the_file(tmp_path, tiny_state, edit, match):
    edit(tiny_state)
    path = save_mmseg(tiny_state, tmp_path / "broken_ckpt.pth")
    with pytest.raises(ValueError, match=match) as err:
        load_mmseg_vit(path, head_dim=16)
    assert "broken_ckpt.pth" in str(err.value)


def test_unsupported_heads_and_files_raise(tmp_path, tiny_state):
    setr = fabricate(expected_keys(TINY_HEADS["setr_naive"]))
    pup = {**setr, "decode_head.up_convs.0.0.conv.weight": torch.zeros(8, 32, 3, 3)}
    with pytest.raises(ValueError, match=r"pup.pth: SETR-PUP.*decode_head.up_convs.0.0.conv.weight"):
        load_mmseg_vit(save_mmseg(pup, tmp_path / "pup.pth"), head_dim=16)
    mla = {**setr, "neck.convs.0.weight": torch.zeros(1)}
    with pytest.raises(ValueError, match=r"mla.pth: SETR-MLA.*neck.convs.0.weight"):
        load_mmseg_vit(save_mmseg(mla, tmp_path / "mla.pth"), head_dim=16)
    with pytest.raises(ValueError, match=r"other.pth: unsupported decode head.*decode_head.bottleneck.weight"):
        linear = fabricate(expected_keys(TINY_HEADS["linear"]))
        load_mmseg_vit(save_mmseg({**linear, "decode_head.bottleneck.weight": torch.zeros(1)}, tmp_path / "other.pth"),
                       head_dim=16)
    with pytest.raises(ValueError, match=r"resnet.pth: not an mmseg VisionTransformer"):
        load_mmseg_vit(save_mmseg({"backbone.conv1.weight": torch.zeros(1)}, tmp_path / "resnet.pth"))
    with pytest.raises(FileNotFoundError):
        load_mmseg_vit(tmp_path / "absent.pth")
    torch.save({"state_dict": {}, "fn": print}, tmp_path / "code.pth")
    with pytest.raises(ValueError, match="code.pth refused"):
        load_mmseg_vit(tmp_path / "code.pth")


def test_keys_probe_is_the_key_projection_of_the_normed_block_input(tiny_state):
    d = TINY.dim
    w = torch.randn(3 * d, d, generator=torch.Generator().manual_seed(1))
    tiny_state["backbone.layers.1.attn.attn.in_proj_weight"] = w
    model = MMSegViT(TINY).eval()
    model.load_state_dict(tiny_state, strict=True)
    seen = {}
    model.backbone.layers[1].register_forward_hook(lambda m, inp, out: seen.update(x=inp[0], y=out[0]))
    images = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        out = model.probe(images)
    last = model.backbone.layers[1]
    normed = F.layer_norm(seen["x"], (d,), last.ln1.weight, last.ln1.bias, eps=1e-6)
    b = tiny_state["backbone.layers.1.attn.attn.in_proj_bias"]
    for name, rows in {"queries": slice(0, d), "keys": slice(d, 2 * d), "values": slice(2 * d, 3 * d)}.items():
        by_hand = normed @ w[rows].T + b[rows]  # (B, 1 + 16, D)
        expect = by_hand[:, 1:].transpose(1, 2).reshape(2, d, 4, 4)
        assert torch.allclose(out[name], expect, atol=1e-5), name
    assert torch.allclose(out["tokens"], seen["y"][:, 1:].transpose(1, 2).reshape(2, d, 4, 4))
    assert out["logits"].shape == (2, 5, 16, 16) and torch.allclose(out["logits"], model(images), atol=1e-6)
    with pytest.raises(ValueError, match="probes"):
        model.probe(images, names=("stage3",))


def test_block_matches_torch_multihead_attention():
    torch.manual_seed(0)
    block = EncoderLayer(48, 4, 96, eps=1e-6).eval()
    ref = torch.nn.MultiheadAttention(48, 4, batch_first=True).eval()
    ref.load_state_dict(block.attn.attn.state_dict())  # the same fused in_proj and out_proj
    x = torch.randn(3, 7, 48)
    with torch.no_grad():
        y = block.ln1(x)
        ours, _ = block.attn(y)
        theirs = ref(y, y, y, need_weights=False)[0]
        assert torch.allclose(ours, theirs, atol=1e-5)
        x1 = x + theirs
        full = x1 + block.ffn.layers[1](F.gelu(block.ffn.layers[0][0](block.ln2(x1))))
        assert torch.allclose(block(x)[0], full, atol=1e-5)


@pytest.mark.parametrize("head", sorted(TINY_HEADS))
@pytest.mark.parametrize("size", [(16, 16), (20, 12), (18, 17)])
def test_logits_shapes(head, size):
    model = MMSegViT(TINY_HEADS[head]).eval()
    with torch.no_grad():
        logits = model(torch.rand(2, 3, *size))
        feats = model.probe(torch.rand(1, 3, *size), names=("keys", "tokens"))
    grid = (-(-size[0] // 4), -(-size[1] // 4))
    assert logits.shape == (2, 5, *size) and feats["keys"].shape == (1, 32, *grid)
    assert set(feats) == {"keys", "tokens", "logits"}
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        model(torch.rand(3, 16, 16))


def test_normalisation_and_position_embedding_modes():
    seg, setr = MMSegViT(TINY_HEADS["mask"]), MMSegViT(TINY_HEADS["setr_naive"])
    assert torch.allclose(seg.normalize(torch.full((1, 3, 2, 2), 0.5)), torch.zeros(1, 3, 2, 2))
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1) / 255
    assert torch.allclose(setr.normalize(mean.expand(1, 3, 2, 2)), torch.zeros(1, 3, 2, 2), atol=1e-5)
    assert (seg.c.interpolate_mode, setr.c.interpolate_mode) == ("bicubic", "bilinear")
    assert seg.backbone.pos((4, 4)) is seg.backbone.pos_embed and seg.backbone.pos((2, 6)).shape == (1, 13, 32)


def test_checkpoint_manifests():
    for name in ("segmenter_vit_b16", "setr_vit_l16"):
        m = load_manifest(name)
        assert m.kind == "checkpoint" and m.obtain == "manual" and "P5" in m.papers and m.manual_steps
