# Weighted Softmax (the long-tail survey's baseline, Zhang et al., TPAMI 2023): cross-entropy with class weights
# 1 + ln(n_max / n_c), divided by the sum of the batch's weights. ResNet-50 on ImageNet-LT with the survey code's
# ResNeXt-50 recipe (Vanint/Awesome-LongTailed-Learning Main-codebase/config/ImageNet_LT/weighted_ce.yaml): a total
# batch of 256, SGD lr 0.1, momentum 0.9, wd 5e-4, cosine to 0 per epoch, 200 epochs, floor(N / 256) steps per epoch.
# tools/dist_train.sh THIS_CONFIG 4
_base_ = '../baseline/resnet50_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='WeightedSoftmaxLoss', class_stats={{_base_.class_stats}})))
max_epochs = 200
train_dataloader = dict(drop_last=True)  # floor(N / B) iterations per epoch, as the survey's training loop
optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256)
