# RIDE stage 2, expert assignment (Digits-LT demo, ResNet-32 (CPU)): the stage-1 RIDE model is loaded and frozen
# (BatchNorm in eval mode), and only the router learns, from "the experts so far are wrong and a later one fixes it"
# (BCE, pos_weight 100), with top-5 mean logits as input; at test time each sample adds experts while the router says
# so. The official CIFAR-100 settings (top-5 instead of top-30: 10 classes), lr scaled to batch 32: balanced (class-
# aware) sampling, SGD nesterov lr 0.01 for batch 512, weight decay 5e-4, 5 epochs, cosine to 0. Train stage 1 first
# (ride_resnet32_1xb32_digits-lt_30e.py), then python tools/train.py THIS_CONFIG. Recipe: ./_base_/ride-ea_5e.py.
_base_ = ['./_base_/ride_resnet32_digits-lt.py', './_base_/ride-ea_5e.py']
load_from = 'work_dirs/ride_resnet32_1xb32_digits-lt_30e/epoch_30.pth'
# RIDEClassifier: at test time each expert runs only for the samples the router sends to it
model = dict(type='RIDEClassifier', head=dict(router=dict(top_k=5, pos_weight=100.0)))
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=1, num_samples='dataset'))
optim_wrapper = dict(optimizer=dict(lr=0.01 * 32 / 512))  # the recipe's lr, scaled to batch 32
auto_scale_lr = dict(base_batch_size=32)
