# Decoupling, stage 2, classifier re-training (cRT; Kang et al., ICLR 2020, classifier-balancing
# config/ImageNet_LT/cls_crt.yaml): the stage-1 backbone is loaded and frozen, the linear classifier re-initialised
# and trained for 10 epochs with class-aware sampling (4 images per class visit), SGD lr 0.2 (batch 512), momentum
# 0.9, weight decay 5e-4, cosine to 0. BatchNorm: 'train' mode as the official code (statistics re-estimated on
# class-balanced batches); bn_mode='eval' keeps the stage-1 statistics.
# ./crt_resnet50_8xb64_imagenet-lt_10e.py on the ResNeXt-50 stage-1 model.
# Train stage 1 first (./stage1-ce_resnext50-32x4d_8xb64_imagenet-lt_90e.py), then tools/dist_train.sh THIS_CONFIG 8
_base_ = './crt_resnet50_8xb64_imagenet-lt_10e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))  # the backbone of stage 1
load_from = 'work_dirs/stage1-ce_resnext50-32x4d_8xb64_imagenet-lt_90e/epoch_90.pth'
