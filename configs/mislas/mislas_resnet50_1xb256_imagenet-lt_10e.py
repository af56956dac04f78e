# MiSLAS stage 2 (dvlab-research/MiSLAS config/imagenet/imagenet_resnet50_stage2_mislas.yaml) on ImageNet-LT: the
# stage-1 mixup ResNet-50 is loaded and frozen with shifted BatchNorm; its classifier (loaded, not re-initialised)
# and one learnable weight scale per class are trained with label-aware smoothing (concave, eps_head 0.3,
# eps_tail 0.0) and class-aware sampling (4 images per class visit), no mixup. One GPU x 256 as the official stage 2
# (the BatchNorm shift is estimated on 256-image batches), SGD lr 0.1 (the classifier at lr x 0.05 = lr_factor, the
# scales at lr), momentum 0.9, weight decay 5e-4 on both, 10 epochs, cosine to 0 stepped per epoch.
# Train stage 1 first (./stage1-mixup_resnet50_4xb64_imagenet-lt_180e.py), then python tools/train.py THIS_CONFIG
_base_ = ['./stage1-mixup_resnet50_4xb64_imagenet-lt_180e.py', './_base_/mislas_stage2.py']
load_from = 'work_dirs/stage1-mixup_resnet50_4xb64_imagenet-lt_180e/epoch_180.pth'
model = dict(
    train_cfg=None,  # no mixup in stage 2
    head=dict(type='LWSClsHead', train_fc=True,
              loss=dict(_delete_=True, type='LabelAwareSmoothingLoss', class_stats={{_base_.class_stats}},
                        smooth_head=0.3, smooth_tail=0.0, shape='concave')))
# The official loop runs ceil(N / batch) + 1 full class-aware batches per epoch (`if i > end_steps: break`):
# (ceil(115846 / 256) + 1) x 256 = 454 x 256 samples.
train_dataloader = dict(batch_size=256,
                        sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=4, num_samples=116224))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'head.fc': dict(lr_mult=0.05)}))
max_epochs = 10
param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
