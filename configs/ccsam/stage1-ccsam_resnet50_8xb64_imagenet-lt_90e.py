# CC-SAM stage 1 on ResNet-50, ImageNet-LT. The official code ships no ImageNet-LT recipe (CIFAR only): this is
# configs/baseline's ImageNet-LT recipe (8 GPUs x 64, SGD lr 0.2, momentum 0.9, weight decay 5e-4, 90 epochs, cosine)
# with the official CIFAR-100 CC-SAM settings: input mixup (alpha 1.0), CCSAMClsHead (noise_ratio 1e-6, flat_ratio
# 0.5), drop_last. The per-class gradients are those of the global 512-image batch (all-gathered, as the official
# nn.DataParallel). Its last checkpoint is what stage 2 loads: tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnet50_8xb64_imagenet-lt_90e.py'
model = dict(
    head=dict(type='CCSAMClsHead', class_stats={{_base_.class_stats}}, stage=1, noise_ratio=1e-6, flat_ratio=0.5,
              loss=dict(use_soft=True)),
    train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
train_dataloader = dict(drop_last=True)
