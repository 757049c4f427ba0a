/** Configuration of a Vision Transformer, in torchvision's constructor names. */

/** Checkpoint naming conventions the ViT loads. */
export type VitNaming = 'torchvision' | 'timm';

/** torchvision's VisionTransformer(image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, num_classes). */
export interface VitConfig {
  readonly model: 'vit';
  readonly image_size: number;
  readonly patch_size: number;
  readonly num_layers: number;
  readonly num_heads: number;
  readonly hidden_dim: number;
  readonly mlp_dim: number;
  readonly num_classes: number;
  /** Parameter names of the checkpoint (default torchvision). */
  readonly naming: VitNaming;
  /** LayerNorm epsilon (default 1e-6, as both torchvision and timm use). */
  readonly layer_norm_eps: number;
}

/** Input channels: torchvision's conv_proj takes RGB images. */
export const VIT_CHANNELS = 3;

/** Number of patches (tokens without the class token). */
export function vitPatches(c: VitConfig): number {
  return (c.image_size / c.patch_size) ** 2;
}

const base = { model: 'vit', image_size: 224, patch_size: 16, num_layers: 12, num_classes: 1000, naming: 'torchvision', layer_norm_eps: 1e-6 } as const;

/** The ViT presets of Dosovitskiy et al. and DeiT (Ti), 224x224 images, patch 16, ImageNet's 1000 classes. */
export const VIT_PRESETS: Readonly<Record<string, VitConfig>> = {
  'vit-ti-16': { ...base, num_heads: 3, hidden_dim: 192, mlp_dim: 768 },
  'vit-s-16': { ...base, num_heads: 6, hidden_dim: 384, mlp_dim: 1536 },
  'vit-b-16': { ...base, num_heads: 12, hidden_dim: 768, mlp_dim: 3072 },
};
